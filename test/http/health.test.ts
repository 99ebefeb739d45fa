import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { throwawayMongoUri } from '../setup.js';
import { api } from '../support/http.js';
import { freePort, startServerProcess } from '../support/server-process.js';

describe('GET /api/health', () => {
  it('reports db, redis and storage as up with latencies', async () => {
    const res = await api('GET', '/api/health');
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('ok');
    for (const dep of ['db', 'redis', 'storage']) {
      expect(res.body.checks[dep].status, dep).to.equal('up');
      expect(res.body.checks[dep].latency_ms, dep).to.be.a('number').and.at.least(0);
    }
    expect(res.body.checks.storage.driver).to.equal('local');
  });

  it('answers 503 naming the dependency that goes down', async function () {
    this.timeout(40000);
    // A second real server process with its own redis-server, which the test then stops.
    const redisPort = await freePort();
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', ''], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const server = await startServerProcess({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, MONGODB_URI: throwawayMongoUri() });
    try {
      const healthy = await fetch(`${server.url}/api/health`);
      expect(healthy.status).to.equal(200);
      redis.kill('SIGKILL');
      const res = await fetch(`${server.url}/api/health`);
      expect(res.status).to.equal(503);
      const body = (await res.json()) as { status: string; checks: Record<string, { status: string; error?: string }> };
      expect(body.status).to.equal('degraded');
      expect(body.checks.redis?.status).to.equal('down');
      expect(body.checks.redis?.error).to.be.a('string');
      expect(body.checks.db?.status).to.equal('up');
      expect(body.checks.storage?.status).to.equal('up');
    } finally {
      server.kill();
      redis.kill('SIGKILL');
    }
  });
});

describe('GET /api/openapi.json', () => {
  it('documents the contract paths with schemas', async () => {
    const res = await api('GET', '/api/openapi.json');
    expect(res.status).to.equal(200);
    expect(res.body.openapi).to.equal('3.1.0');
    const login = res.body.paths['/api/auth/login'].post;
    expect(login.requestBody.content['application/json'].schema.properties).to.have.keys('email', 'password', 'tenant');
    expect(login.responses['200'].content['application/json'].schema.properties).to.include.keys('token', 'agent');
  });

  it('serves a reference page and its assets from the package', async () => {
    const page = await api('GET', '/docs');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('swagger-ui-bundle.js');
    const asset = await api('GET', '/docs/assets/swagger-ui-bundle.js');
    expect(asset.status).to.equal(200);
    expect(asset.headers.get('content-type')).to.include('javascript');
  });
});
