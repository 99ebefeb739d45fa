/**
 * Media storage: attachment bytes live outside MongoDB, on local disk or in an S3-compatible
 * bucket, behind one small interface. Key validation happens here, once, so no driver can be
 * handed a key that escapes its directory or bucket prefix.
 */
import type { Config } from '../config.js';
import { createLocalStorage } from './local.js';
import { createS3Storage } from './s3.js';

/** Where media bytes are kept; keys look like `<tenantId>/<uuid>/<filename>`. */
export interface MediaStorage {
  driver: 'local' | 's3';
  /** Stores `body` under `key`, replacing what was there. `size` lets S3 upload in one PUT. */
  put(key: string, body: Buffer | NodeJS.ReadableStream, meta: { contentType: string; size?: number }): Promise<void>;
  /** The stored bytes with their content type and size, or null when nothing is stored under `key`. */
  get(key: string): Promise<{ stream: NodeJS.ReadableStream; contentType: string; size: number } | null>;
  /** Removes `key`; removing a key that does not exist is not an error. */
  delete(key: string): Promise<void>;
  /** Resolves when the backend can be written to, rejects otherwise (used by /api/health). */
  ping(): Promise<void>;
}

/** Builds the driver named by `config.driver`, with every key checked before it is used. */
export function createStorage(config: Config['storage']): MediaStorage {
  const driver = config.driver === 'local' ? createLocalStorage(config.dir) : createS3Storage(config);
  return {
    driver: driver.driver,
    async put(key, body, meta) {
      assertValidKey(key);
      return driver.put(key, body, meta);
    },
    async get(key) {
      assertValidKey(key);
      return driver.get(key);
    },
    async delete(key) {
      assertValidKey(key);
      return driver.delete(key);
    },
    ping: () => driver.ping(),
  };
}

/** Throws unless `key` is a relative, slash-separated path that stays inside the storage root. */
export function assertValidKey(key: string): void {
  const reason = keyProblem(key);
  if (reason) throw new Error(`Invalid storage key ${JSON.stringify(key)}: ${reason}`);
}

function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'empty';
  // `..` is refused anywhere, not only as a whole segment: no legitimate key needs it and
  // the broader rule leaves no room for a normalisation trick to climb out of the root.
  if (key.includes('..')) return 'contains ".."';
  if (key.startsWith('/')) return 'starts with "/"';
  // On Windows a backslash is a separator, so it could smuggle in a segment we never saw.
  if (key.includes('\\')) return 'contains a backslash';
  // NUL truncates paths in the OS and is refused by fs with a less helpful error.
  if (key.includes('\0')) return 'contains NUL';
  // Empty and "." segments would map to different objects on disk (normalised away) and in
  // S3 (kept literally), so the same key would mean two things depending on the driver.
  if (key.split('/').some((segment) => segment === '' || segment === '.')) return 'has an empty or "." segment';
  // The local driver keeps the content type in `<key>.meta.json`; refusing such keys on
  // every driver keeps them interchangeable.
  if (key.endsWith('.meta.json')) return 'ends with ".meta.json"';
  return undefined;
}
