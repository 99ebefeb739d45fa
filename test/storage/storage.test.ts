import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import { createStorage } from '../../src/storage/index.js';
import type { MediaStorage } from '../../src/storage/index.js';

const BAD_KEYS = [
  '',
  '../escape.txt',
  'tenant/../../escape.txt',
  'tenant/uuid/..',
  '/etc/passwd',
  'tenant\\uuid\\file.txt',
  'tenant/uuid/file\0.txt',
  'tenant//file.txt',
  'tenant/./file.txt',
  'tenant/uuid/',
  'tenant/uuid/file.meta.json',
];

describe('media storage', () => {
  describe('local driver', () => {
    let dir: string;
    let storage: MediaStorage;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'omnistream-media-'));
      // A folder that does not exist yet: the driver must create it.
      storage = createStorage({ driver: 'local', dir: join(dir, 'media') });
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('stores a buffer as a file with a content-type sidecar, reads it back and deletes it', async () => {
      const key = newKey('photo.jpg');
      const body = randomBytes(1000);
      await storage.put(key, body, { contentType: 'image/jpeg', size: body.length });

      const file = join(dir, 'media', key);
      assert.deepEqual(await readFile(file), body);
      assert.deepEqual(JSON.parse(await readFile(`${file}.meta.json`, 'utf8')), { contentType: 'image/jpeg' });

      const got = await storage.get(key);
      assert.notEqual(got, null);
      assert.equal(got?.contentType, 'image/jpeg');
      assert.equal(got?.size, body.length);
      assert.deepEqual(await readAll(got?.stream), body);

      await storage.delete(key);
      assert.equal(await storage.get(key), null);
      assert.equal(existsSync(file), false);
      assert.equal(existsSync(`${file}.meta.json`), false);
    });

    it('stores a stream of unknown size', async () => {
      const key = newKey('voice.ogg');
      const parts = [randomBytes(70000), randomBytes(5)];
      await storage.put(key, Readable.from(parts), { contentType: 'audio/ogg' });

      const got = await storage.get(key);
      assert.equal(got?.size, 70005);
      assert.equal(got?.contentType, 'audio/ogg');
      assert.deepEqual(await readAll(got?.stream), Buffer.concat(parts));
    });

    it('replaces what was stored under the same key', async () => {
      const key = newKey('doc.txt');
      await storage.put(key, Buffer.from('first'), { contentType: 'text/plain' });
      await storage.put(key, Buffer.from('second version'), { contentType: 'text/markdown' });

      const got = await storage.get(key);
      assert.equal(got?.contentType, 'text/markdown');
      assert.equal((await readAll(got?.stream)).toString(), 'second version');
    });

    it('answers null for a missing key, including a folder of other keys', async () => {
      const key = newKey('there.txt');
      await storage.put(key, Buffer.from('x'), { contentType: 'text/plain' });

      assert.equal(await storage.get(newKey('never-stored.png')), null);
      assert.equal(await storage.get(key.slice(0, key.lastIndexOf('/'))), null);
      assert.equal(await storage.get(`${key}/below-a-file`), null);
    });

    it('deletes a missing key without complaint', async () => {
      await storage.delete(newKey('never-stored.png'));
    });

    it('pings a writable directory and leaves no probe file behind', async () => {
      const fresh = await mkdtemp(join(tmpdir(), 'omnistream-ping-'));
      try {
        await createStorage({ driver: 'local', dir: fresh }).ping();
        assert.deepEqual(await readdir(fresh), []);
      } finally {
        await rm(fresh, { recursive: true, force: true });
      }
    });

    it('fails ping when the media directory cannot be created', async () => {
      const blocker = join(dir, 'a-file');
      await writeFile(blocker, 'not a directory');
      await expectRejection(createStorage({ driver: 'local', dir: join(blocker, 'media') }).ping());
    });
  });

  describe('key validation', () => {
    let dir: string;
    let drivers: MediaStorage[];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'omnistream-keys-'));
      // Nothing listens on port 1: if a bad key got past validation the S3 call would fail
      // with a connection error instead of the key error asserted below.
      drivers = [
        createStorage({ driver: 'local', dir: join(dir, 'media') }),
        createStorage(s3Config('http://127.0.0.1:1', 'omnistream-unused')),
      ];
    });
    after(() => rm(dir, { recursive: true, force: true }));

    for (const key of BAD_KEYS) {
      it(`rejects ${JSON.stringify(key)} on put, get and delete of both drivers`, async () => {
        for (const storage of drivers) {
          for (const call of [
            () => storage.put(key, Buffer.from('x'), { contentType: 'text/plain' }),
            () => storage.get(key),
            () => storage.delete(key),
          ]) {
            const err = await expectRejection(call());
            assert.match(err.message, /^Invalid storage key/, storage.driver);
          }
        }
        assert.equal(existsSync(join(dir, 'escape.txt')), false);
      });
    }
  });

  describe('s3 driver against a real MinIO', function () {
    const endpoint = process.env.TEST_S3_ENDPOINT;
    const accessKey = process.env.TEST_S3_ACCESS_KEY ?? '';
    const secretKey = process.env.TEST_S3_SECRET_KEY ?? '';
    const buckets: string[] = [];
    let raw: Client;

    // A fresh bucket per test, so each one starts from "bucket does not exist".
    const freshBucket = (): string => {
      const bucket = `omnistream-test-${randomUUID().slice(0, 12)}`;
      buckets.push(bucket);
      return bucket;
    };

    before(function () {
      if (!endpoint) this.skip();
      // Deliberately not built by our driver code: this client is the independent witness.
      const url = new URL(endpoint);
      raw = new Client({
        endPoint: url.hostname,
        port: Number(url.port),
        useSSL: url.protocol === 'https:',
        accessKey,
        secretKey,
        region: 'us-east-1',
      });
    });

    after(async () => {
      if (!endpoint) return;
      for (const bucket of buckets) {
        if (!(await raw.bucketExists(bucket))) continue;
        const names: string[] = [];
        for await (const item of raw.listObjectsV2(bucket, '', true)) {
          if (item.name) names.push(item.name);
        }
        if (names.length) await raw.removeObjects(bucket, names);
        await raw.removeBucket(bucket);
      }
    });

    const s3Storage = (bucket: string): MediaStorage =>
      createStorage({ ...s3Config(endpoint ?? '', bucket), accessKey, secretKey });

    it('creates the bucket on first put and stores the object with its content type', async () => {
      const bucket = freshBucket();
      const storage = s3Storage(bucket);
      const key = newKey('photo.jpg');
      const body = randomBytes(1000);
      assert.equal(await raw.bucketExists(bucket), false);

      await storage.put(key, body, { contentType: 'image/jpeg', size: body.length });

      assert.equal(await raw.bucketExists(bucket), true);
      const stat = await raw.statObject(bucket, key);
      assert.equal(stat.size, body.length);
      assert.equal(stat.metaData['content-type'], 'image/jpeg');
      assert.deepEqual(await readAll(await raw.getObject(bucket, key)), body);
    });

    it('reads back, then deletes, what it stored', async () => {
      const bucket = freshBucket();
      const storage = s3Storage(bucket);
      const key = newKey('voice.ogg');
      const parts = [randomBytes(300000), randomBytes(7)];
      await storage.put(key, Readable.from(parts), { contentType: 'audio/ogg' });

      const got = await storage.get(key);
      assert.equal(got?.contentType, 'audio/ogg');
      assert.equal(got?.size, 300007);
      assert.deepEqual(await readAll(got?.stream), Buffer.concat(parts));

      await storage.delete(key);
      const err = await expectRejection(raw.statObject(bucket, key));
      assert.equal((err as Error & { code?: string }).code, 'NotFound');
      assert.equal(await storage.get(key), null);
    });

    it('answers null for a missing key, whether or not the bucket exists yet', async () => {
      const storage = s3Storage(freshBucket());
      assert.equal(await storage.get(newKey('nothing.png')), null);
      await storage.delete(newKey('nothing.png'));

      await storage.put(newKey('something.txt'), Buffer.from('x'), { contentType: 'text/plain' });
      assert.equal(await storage.get(newKey('nothing.png')), null);
    });

    it('pings the server, even before the bucket exists', async () => {
      await s3Storage(freshBucket()).ping();
    });

    it('fails ping with wrong credentials', async () => {
      const storage = createStorage({ ...s3Config(endpoint ?? '', freshBucket()), accessKey, secretKey: 'wrong-secret' });
      await expectRejection(storage.ping());
    });
  });

  describe('s3 driver against an endpoint that does not answer', () => {
    it('fails ping within a few seconds when nothing listens', async function () {
      this.timeout(10000);
      const started = Date.now();
      await expectRejection(createStorage(s3Config('http://127.0.0.1:1', 'omnistream-media')).ping());
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 5000, `took ${elapsed} ms`);
    });

    it('fails ping within a few seconds when the server accepts but never replies', async function () {
      this.timeout(10000);
      const sockets = new Set<Socket>();
      const server = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      try {
        const started = Date.now();
        const err = await expectRejection(createStorage(s3Config(`http://127.0.0.1:${port}`, 'omnistream-media')).ping());
        assert.match(err.message, /no answer within/);
        const elapsed = Date.now() - started;
        assert.ok(elapsed < 5000, `took ${elapsed} ms`);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});

function newKey(filename: string): string {
  return `${randomUUID()}/${randomUUID()}/${filename}`;
}

function s3Config(endpoint: string, bucket: string) {
  return {
    driver: 's3' as const,
    endpoint,
    accessKey: 'test-access',
    secretKey: 'test-secret',
    bucket,
    region: 'us-east-1',
  };
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!stream) throw new Error('no stream');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

// Like assert.rejects, but hands back the error so a test can look at it.
async function expectRejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, `rejected with a non-Error: ${String(err)}`);
    return err;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
