/**
 * S3-compatible media storage (AWS S3, MinIO, ...) through the `minio` client. The bucket is
 * created on first write; the content type travels as the object's standard metadata.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import type { ClientOptions } from 'minio';
import type { Config } from '../config.js';
import type { MediaStorage } from './index.js';

type S3Config = Extract<Config['storage'], { driver: 's3' }>;
type Transport = NonNullable<ClientOptions['transport']>;

// The minio client has no request timeout of its own, so an unreachable or silent endpoint
// would hang /api/health until the OS gives up on the connection (minutes).
const IDLE_TIMEOUT_MS = 3000;
// Parts are buffered in memory; the client's default for streams of unknown size is ~500 MB.
const PART_SIZE = 16 * 1024 * 1024;
const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/** Stores media as objects in `config.bucket`; keys must already be validated by `createStorage`. */
export function createS3Storage(config: S3Config): MediaStorage {
  const client = createS3Client(config);
  const { bucket } = config;

  // One shared attempt per process; forgotten on failure so the next write tries again.
  let bucketReady: Promise<void> | undefined;
  const ensureBucket = (): Promise<void> => {
    bucketReady ??= createBucketIfMissing(client, bucket, config.region).catch((err: unknown) => {
      bucketReady = undefined;
      throw err;
    });
    return bucketReady;
  };

  return {
    driver: 's3',

    async put(key, body, meta) {
      await ensureBucket();
      const source = Buffer.isBuffer(body) || body instanceof Readable ? body : Readable.from(body);
      await client.putObject(bucket, key, source, meta.size, { 'Content-Type': meta.contentType });
    },

    async get(key) {
      let stream: Readable;
      try {
        stream = await client.getObject(bucket, key);
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
      // The GET response already carries type and length; a separate statObject would cost a
      // round trip and could describe a different version than the bytes we stream.
      if (stream instanceof http.IncomingMessage) {
        const contentType = stream.headers['content-type'] ?? FALLBACK_CONTENT_TYPE;
        return { stream, contentType, size: Number(stream.headers['content-length'] ?? 0) };
      }
      const stat = await client.statObject(bucket, key);
      const contentType = stat.metaData['content-type'];
      return { stream, contentType: typeof contentType === 'string' ? contentType : FALLBACK_CONTENT_TYPE, size: stat.size };
    },

    async delete(key) {
      try {
        await client.removeObject(bucket, key);
      } catch (err) {
        // Nothing was ever written if the bucket does not exist yet; that is not a failure.
        if (errorCode(err) !== 'NoSuchBucket') throw err;
      }
    },

    async ping() {
      // A missing bucket still answers (false): reachable and authorised is what health needs,
      // and the first write will create the bucket.
      await client.bucketExists(bucket);
    },
  };
}

/** A minio Client for `config.endpoint` whose requests give up after a few idle seconds. */
function createS3Client(config: Omit<S3Config, 'driver' | 'bucket'>): Client {
  const url = new URL(config.endpoint);
  if (url.pathname !== '/' || url.search) {
    throw new Error(`S3 endpoint ${config.endpoint} must not have a path or query: the bucket is a separate setting`);
  }
  const useSSL = url.protocol === 'https:';
  return new Client({
    // URL keeps IPv6 literals bracketed; the client wants the bare address.
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    // Naming the region up front spares the client a GetBucketLocation call per bucket.
    region: config.region,
    partSize: PART_SIZE,
    transport: withIdleTimeout(useSSL, IDLE_TIMEOUT_MS),
    // The client only retries 5xx/429 answers; keep it to one quick retry so ping stays short.
    retryOptions: { maximumRetryCount: 1, baseDelayMs: 100, maximumDelayMs: 500 },
  });
}

async function createBucketIfMissing(client: Client, bucket: string, region: string): Promise<void> {
  if (await client.bucketExists(bucket)) return;
  try {
    await client.makeBucket(bucket, region);
  } catch (err) {
    // Another process won the race to create it, which is just as good.
    if (errorCode(err) !== 'BucketAlreadyOwnedByYou') throw err;
  }
}

// Aborts a request after `ms` without socket activity: connecting, uploading or waiting for the
// answer. Once the response headers are in, the limit is lifted: the caller may pause the body
// stream for as long as its own client reads slowly.
function withIdleTimeout(useSSL: boolean, ms: number): Transport {
  const request = (options: https.RequestOptions, callback?: (res: http.IncomingMessage) => void): http.ClientRequest => {
    const onResponse = (res: http.IncomingMessage): void => {
      req.setTimeout(0);
      callback?.(res);
    };
    const req = useSSL ? https.request(options, onResponse) : http.request(options, onResponse);
    req.setTimeout(ms, () => {
      req.destroy(new Error(`S3 request to ${options.host ?? options.hostname}:${options.port} got no answer within ${ms} ms`));
    });
    return req;
  };
  // minio only ever calls `request(options, callback)`, the one overload implemented here.
  return { request: request as Transport['request'] };
}

function isNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchBucket';
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
