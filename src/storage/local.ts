/**
 * Local-disk media storage for development and single-node installs: one file per key under
 * the media directory, with its content type in a `<file>.meta.json` sidecar.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MediaStorage } from './index.js';

const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/** Stores media as files under `dir`; keys must already be validated by `createStorage`. */
export function createLocalStorage(dir: string): MediaStorage {
  const root = resolve(dir);

  // A second guard behind key validation: whatever the key, never touch a path outside root.
  const pathOf = (key: string): string => {
    const file = resolve(root, key);
    if (!file.startsWith(root + sep)) throw new Error(`Storage key ${JSON.stringify(key)} resolves outside ${root}`);
    return file;
  };
  const metaPathOf = (file: string): string => `${file}.meta.json`;

  return {
    driver: 'local',

    async put(key, body, meta) {
      const file = pathOf(key);
      await mkdir(dirname(file), { recursive: true });
      // Write to temporary names and rename into place, so a reader never sees half a file
      // and a failed upload leaves nothing behind under the real key.
      const tmp = `${file}.${randomUUID()}.tmp`;
      const metaTmp = `${tmp}.meta`;
      try {
        if (Buffer.isBuffer(body)) await writeFile(tmp, body);
        else await pipeline(body, createWriteStream(tmp));
        await writeFile(metaTmp, JSON.stringify({ contentType: meta.contentType }));
        // The sidecar goes first: once the data file exists under its key, its type is known.
        await rename(metaTmp, metaPathOf(file));
        await rename(tmp, file);
      } catch (err) {
        await Promise.all([rm(tmp, { force: true }), rm(metaTmp, { force: true })]);
        throw err;
      }
    },

    async get(key) {
      const file = pathOf(key);
      let handle: FileHandle;
      try {
        handle = await open(file, 'r');
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
      // Size and bytes come from the same open handle, so a concurrent put (a rename onto
      // the key) cannot make them disagree.
      try {
        const stats = await handle.stat();
        // A key that names a folder of other keys (`tenant/uuid`) holds no bytes itself.
        if (!stats.isFile()) {
          await handle.close();
          return null;
        }
        const contentType = await readContentType(metaPathOf(file));
        return { stream: handle.createReadStream(), contentType, size: stats.size };
      } catch (err) {
        await handle.close();
        throw err;
      }
    },

    async delete(key) {
      const file = pathOf(key);
      await rm(file, { force: true });
      await rm(metaPathOf(file), { force: true });
    },

    async ping() {
      await mkdir(root, { recursive: true });
      // Write a real file: permission bits alone miss read-only mounts and full disks.
      const probe = resolve(root, `.ping-${randomUUID()}`);
      try {
        await writeFile(probe, 'ok');
      } finally {
        await rm(probe, { force: true });
      }
    },
  };
}

async function readContentType(metaFile: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(metaFile, 'utf8');
  } catch (err) {
    // A file copied in by hand has no sidecar; serve it rather than pretend it is missing.
    if (isMissing(err)) return FALLBACK_CONTENT_TYPE;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed === 'object' && parsed !== null && 'contentType' in parsed && typeof parsed.contentType === 'string') {
    return parsed.contentType;
  }
  return FALLBACK_CONTENT_TYPE;
}

// ENOTDIR: a parent segment of the key is a file, so nothing can be stored under it either.
function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}
