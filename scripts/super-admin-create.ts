/**
 * Creates a super-admin account: how the platform gets its first one (there is no default).
 *
 *   SUPER_ADMIN_PASSWORD=... npm run super-admin:create -- --email ops@example.com [--name "Ops"]
 *   npm run super-admin:create -- --email ops@example.com < password-file
 *
 * The password comes from SUPER_ADMIN_PASSWORD or, without it, from standard input (first
 * line), never from the command line, where other users of the machine could read it. It uses
 * the server's configuration (MONGODB_URI, PASSWORD_HASH_ROUNDS) from the environment.
 */
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { parseConfig } from '../src/config.js';
import { setAppContext, type AppContext } from '../src/context.js';
import { connectDatabase } from '../src/db.js';
import { AppError } from '../src/errors.js';
import { createSuperAdminAccount } from '../src/services/super-admins.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (ends with Enter; it is echoed, prefer SUPER_ADMIN_PASSWORD or a pipe): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes('\n')) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string', default: 'Super Admin' } } });
const email = values.email?.trim() ?? '';
if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
  console.error('usage: npm run super-admin:create -- --email <address> [--name <name>]  (password from SUPER_ADMIN_PASSWORD or stdin)');
  process.exit(2);
}
const password = process.env.SUPER_ADMIN_PASSWORD ?? (await readStdin());
if (password.length < 8 || password.length > 128) {
  console.error('The password must be 8 to 128 characters.');
  process.exit(2);
}

const config = parseConfig(process.env);
await connectDatabase(config.mongodbUri);
// This path reads only configuration through the context (the password's hash cost); it
// touches no Redis, storage or actors, so none is started.
setAppContext({ config } as AppContext);
try {
  const admin = await createSuperAdminAccount({ actor: null, name: values.name ?? 'Super Admin', email, password });
  console.log(`Super-admin account ${admin.email} created (id ${admin._id}). Sign in with POST /api/super-admin/login.`);
} catch (err) {
  console.error(err instanceof AppError ? err.message : err);
  process.exitCode = 1;
} finally {
  await mongoose.disconnect();
}
