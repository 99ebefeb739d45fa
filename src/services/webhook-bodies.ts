/**
 * Where a stored delivery's raw bytes live. A MongoDB document holds at most 16 MB while
 * WEBHOOK_BODY_LIMIT_KB admits e-mails of 25 MB, so a body past RAW_INLINE_MAX_BYTES goes to
 * media storage (local disk or S3, like media) under `webhooks/<delivery id>/body` and its
 * document keeps only where; smaller bodies stay inline, one write as before.
 */
import { appContext } from '../context.js';
import { RAW_INLINE_MAX_BYTES, type RawStorage, type WebhookEvent } from '../models/webhook-event.js';
import { storageFor } from './media.js';

/** The body fields of a new delivery document, writing a large body to storage first. */
export async function placeRawBody(id: string, raw: Buffer): Promise<{ raw: Buffer | null; raw_storage: RawStorage | null }> {
  if (raw.length <= RAW_INLINE_MAX_BYTES) return { raw, raw_storage: null };
  const storage = appContext().storage;
  const key = `webhooks/${id}/body`;
  // The id is the body's hash: a retry writes the same bytes to the same key.
  await storage.put(key, raw, { contentType: 'application/octet-stream', size: raw.length });
  return { raw: null, raw_storage: { driver: storage.driver, key } };
}

/** The stored body as a Buffer, from the document or from storage. */
export async function rawBodyOf(stored: Pick<WebhookEvent, '_id' | 'raw' | 'raw_storage'>): Promise<Buffer> {
  if (stored.raw) return bytesOf(stored.raw);
  const where = stored.raw_storage;
  const storage = where ? storageFor(where.driver) : null;
  if (!where || !storage) throw new Error(`webhook ${stored._id} has no body this server can read`);
  const got = await storage.get(where.key);
  if (!got) throw new Error(`webhook ${stored._id}: its body is missing from ${where.driver} storage`);
  const chunks: Buffer[] = [];
  for await (const chunk of got.stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The stored body as a Buffer (a lean read hands back BSON Binary). */
function bytesOf(raw: Buffer | { buffer: Uint8Array }): Buffer {
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer);
}
