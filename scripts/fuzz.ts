/**
 * Runs Schemathesis against a real server process on throwaway services: registers a fresh
 * organization through the API, then fuzzes every documented operation as its admin, checking
 * that nothing answers 5xx and that every status is one the OpenAPI document lists. Endpoints
 * that end the fuzzer's own session (logout, token rotation) are left out.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../test/support/server-process.js';

const seconds = process.env.FUZZ_SECONDS ?? '180';
const bin = process.env.SCHEMATHESIS_BIN ?? 'schemathesis';
const mongo = new URL(process.env.MONGODB_URI ?? '');
mongo.pathname = `/fuzz_${randomBytes(4).toString('hex')}`;
const port = await freePort();
const url = `http://127.0.0.1:${port}`;

const server = spawn(process.execPath, ['--import=tsx', 'src/main.ts'], {
  env: {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    PORT: String(port),
    HOST: '127.0.0.1',
    MONGODB_URI: mongo.toString(),
    RATE_LIMIT_API_TOKEN: 'off',
    // The MinIO fuzz.sh starts, so POST /api/media/s3 stores for real.
    ...(process.env.TEST_S3_ENDPOINT
      ? { S3_ENDPOINT: process.env.TEST_S3_ENDPOINT, S3_ACCESS_KEY: process.env.TEST_S3_ACCESS_KEY ?? '', S3_SECRET_KEY: process.env.TEST_S3_SECRET_KEY ?? '' }
      : {}),
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const stop = () => server.kill('SIGTERM');
process.on('exit', stop);

for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${url}/api/health`)).ok) break;
  } catch {
    if (i > 300) throw new Error('the server never answered');
  }
  await new Promise((r) => setTimeout(r, 100));
}

const email = `fuzz-${randomBytes(4).toString('hex')}@example.test`;
const registered = await fetch(`${url}/api/auth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ organization_name: 'Fuzz Org', name: 'Fuzz Admin', email, password: 'fuzz-password-123' }),
});
if (registered.status !== 201) throw new Error(`registering the fuzz tenant: ${registered.status} ${await registered.text()}`);
const { token } = (await registered.json()) as { token: string };

const args = [
  'run',
  `${url}/api/openapi.json`,
  '--header',
  `Authorization: Bearer ${token}`,
  '--checks',
  'not_a_server_error,status_code_conformance,unsupported_method,allow_header_conformance',
  '--max-time',
  seconds,
  '--exclude-path',
  '/api/auth/logout',
  '--exclude-path',
  '/api/auth/token',
  ...process.argv.slice(2),
];
const fuzz = spawn(bin, args, { stdio: 'inherit' });
const code = await new Promise<number>((resolve) => fuzz.once('exit', (c) => resolve(c ?? 1)));
stop();
process.exit(code);
