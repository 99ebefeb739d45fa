/**
 * Media: uploads by agents, the provider's media that customers send (a WhatsApp media id),
 * fetched from the provider on first download and served from our storage after that, and
 * attachments that arrive inside a webhook (e-mail), stored before their message is.
 *
 * Bytes live in media storage under `<tenant>/<media id>/<safe filename>`; the media document
 * records which storage (local or S3) holds them, so POST /api/media/s3 can put a file in S3
 * while the default driver is the local disk, and either is found again on download.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { downloadMedia } from '../../channels/whatsapp/index.js';
import { ChannelSendError, type ChannelCredentials, type ChannelName } from '../../channels/types.js';
import { appContext } from '../context.js';
import type { Config } from '../config.js';
import { AppError, isDuplicateKey } from '../errors.js';
import type { UploadedFile } from '../http/multipart.js';
import { naturalId, newId } from '../ids.js';
import { logger } from '../logger.js';
import { integrationAccounts } from '../models/integration-account.js';
import { media, type Media, type MediaStorageDriver } from '../models/media.js';
import { mediaUrl } from '../presenters/media.js';
import { createStorage, type MediaStorage } from '../storage/index.js';
import type { Acting } from './agents.js';
import { credentialsFor } from './integration-accounts.js';
import { ACCEPTED_SUMMARY, detectBytesType, detectMediaType, safeFilename, storageName } from './media-types.js';

/** A stored file's bytes. */
export interface MediaBytes {
  stream: NodeJS.ReadableStream;
  size: number;
  contentType: string;
}

const storageUnavailable = (message: string) => new AppError(503, 'storage_unavailable', message);

const s3Storages = new WeakMap<Config, MediaStorage>();

/** The storage for a driver: the configured one, or S3 from S3_* settings next to a local default; null when not configured. */
export function storageFor(driver: MediaStorageDriver): MediaStorage | null {
  const { storage, config } = appContext();
  if (storage.driver === driver) return storage;
  if (driver !== 's3' || !config.s3) return null;
  let s3 = s3Storages.get(config);
  if (!s3) {
    s3 = createStorage(config.s3);
    s3Storages.set(config, s3);
  }
  return s3;
}

const storageKey = (tenantId: string, mediaId: string, filename: string) => `${tenantId}/${mediaId}/${storageName(filename)}`;

async function putBytes(storage: MediaStorage, key: string, body: Buffer | NodeJS.ReadableStream, contentType: string, size: number): Promise<void> {
  try {
    await storage.put(key, body, { contentType, size });
  } catch (err) {
    logger.error({ err, key, driver: storage.driver }, 'media storage write failed');
    throw storageUnavailable(`Media storage (${storage.driver}) did not accept the file; try again later`);
  }
}

/** Upload a file. */
export interface UploadMedia extends Acting {
  /** Where the bytes go: the configured storage, or always S3. */
  target: 'default' | 's3';
  /** Reads the request's file under the size limit (called once the storage is known to be there). */
  readFile: (maxBytes: number) => Promise<UploadedFile>;
}

/**
 * Stores an upload: 503 when S3 is asked for and not configured (before the body is read), then
 * 400/413 from reading the file, 415 when its bytes are not an accepted type.
 */
export async function uploadMedia(cmd: UploadMedia): Promise<Media> {
  const storage = cmd.target === 's3' ? storageFor('s3') : appContext().storage;
  if (!storage) {
    throw storageUnavailable('S3 storage is not configured on this server: set STORAGE_DRIVER=s3, or S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY');
  }
  const file = await cmd.readFile(appContext().config.media.maxBytes);
  try {
    const type = await detectMediaType(file.path, file.declaredType, file.filename);
    if (!type.ok) {
      const what = type.detected ? `a ${type.detected} file` : 'a file whose type could not be recognised from its contents';
      throw new AppError(415, 'unsupported_media_type', `Unsupported file type: this is ${what}. Accepted: ${ACCEPTED_SUMMARY}.`);
    }
    const id = newId();
    const filename = safeFilename(file.filename, type.contentType);
    const key = storageKey(cmd.tenantId, id, filename);
    await putBytes(storage, key, createReadStream(file.path), type.contentType, file.size);
    try {
      return await media.insert({
        _id: id,
        tenant_id: cmd.tenantId,
        storage_key: key,
        storage: storage.driver,
        filename,
        content_type: type.contentType,
        size: file.size,
        sha256: file.sha256,
        source: 'upload',
        provider: null,
        uploaded_by: cmd.principal.userId,
      });
    } catch (err) {
      // No document names the object: remove it rather than leave it orphaned.
      await storage.delete(key).catch((e: unknown) => logger.warn({ err: e, key }, 'could not remove an orphaned media object'));
      throw err;
    }
  } finally {
    await file.discard();
  }
}

/** What a download finds: the document, and how to read its bytes. */
export interface MediaFile {
  media: Media;
  /** Opens the bytes (fetching provider media again if its stored copy has gone). */
  open(): Promise<MediaBytes>;
}

/**
 * The tenant's media, with provider media fetched and stored on first access; 404 for another
 * tenant's id, 502 when the provider will not hand the media over, 503 when its storage is gone.
 */
export async function getMediaFile(tenantId: string, id: string): Promise<MediaFile> {
  let doc = await media.findOwned(tenantId, id);
  if (!doc.storage_key) doc = await fetchProviderMedia(doc);
  const current = doc;
  return {
    media: current,
    async open() {
      const found = await readBytes(current);
      if (found) return found;
      if (current.source === 'provider') {
        const again = await readBytes(await fetchProviderMedia(current));
        if (again) return again;
      }
      logger.error({ mediaId: current._id, key: current.storage_key }, 'media bytes missing from storage');
      throw new AppError(404, 'not_found', 'Media file is missing from storage');
    },
  };
}

async function readBytes(m: Media): Promise<MediaBytes | null> {
  const storage = m.storage ? storageFor(m.storage) : null;
  if (!storage || !m.storage_key) throw storageUnavailable(`Media ${m._id} is kept in ${m.storage ?? 'an unknown'} storage, which this server is not configured for`);
  let got: Awaited<ReturnType<MediaStorage['get']>>;
  try {
    got = await storage.get(m.storage_key);
  } catch (err) {
    logger.error({ err, key: m.storage_key, driver: storage.driver }, 'media storage read failed');
    throw storageUnavailable(`Media storage (${storage.driver}) did not answer; try again later`);
  }
  if (!got) return null;
  // The document's type and size were checked on the way in; storage metadata is a fallback.
  return { stream: got.stream, size: got.size, contentType: m.content_type ?? got.contentType };
}

// ---- provider media -------------------------------------------------------------------------

type ProviderFetch = (credentials: ChannelCredentials, mediaId: string) => Promise<{ bytes: Buffer; mimeType?: string | undefined; checksumOk: boolean | null }>;

/** Channels whose messages carry media ids to fetch (Messenger, Instagram and e-mail give URLs or inline bytes). */
const PROVIDER_FETCH: Partial<Record<ChannelName, ProviderFetch>> = {
  whatsapp: (credentials, mediaId) => downloadMedia(credentials, mediaId),
};

/** Our media id for a provider's media id: the same for every message that names it. */
export const providerMediaId = (tenantId: string, channel: ChannelName, providerId: string): string =>
  naturalId('provider-media', tenantId, channel, providerId);

/** What the inbound message said about the media, kept until it is fetched. */
export interface ProviderMediaDetails {
  mimeType?: string | undefined;
  filename?: string | undefined;
}

/**
 * The download URL (`/api/media/{id}`) for a provider's media id, creating its pending media
 * document once (an `_id` claim, so concurrent webhooks create one). The bytes are fetched with
 * `accountId`'s credentials when someone first downloads it.
 */
export async function mediaUrlForProviderMedia(
  tenantId: string,
  channel: ChannelName,
  providerMediaIdValue: string,
  accountId: string,
  details: ProviderMediaDetails = {},
): Promise<string> {
  if (!PROVIDER_FETCH[channel]) throw new Error(`${channel} messages carry no provider media ids to fetch`);
  const id = providerMediaId(tenantId, channel, providerMediaIdValue);
  try {
    await media.insert({
      _id: id,
      tenant_id: tenantId,
      storage_key: null,
      storage: null,
      filename: details.filename ? safeFilename(details.filename, details.mimeType ?? '') : null,
      content_type: details.mimeType ?? null,
      size: null,
      sha256: null,
      source: 'provider',
      provider: { channel, media_id: providerMediaIdValue, account_id: accountId },
      uploaded_by: null,
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  return mediaUrl(id);
}

// One fetch per media id at a time in this process: a burst of downloads of a new image (every
// agent's app opening the conversation) makes one Graph download. Across processes two fetches
// may race; both store the same bytes under the same key, so the result is the same.
const inFlight = new Map<string, Promise<Media>>();

function fetchProviderMedia(m: Media): Promise<Media> {
  let pending = inFlight.get(m._id);
  if (!pending) {
    pending = fetchAndStore(m).finally(() => inFlight.delete(m._id));
    inFlight.set(m._id, pending);
  }
  return pending;
}

const providerError = (message: string) => new AppError(502, 'provider_error', message);

async function fetchAndStore(stale: Media): Promise<Media> {
  // A fetch that finished between this caller's read and now has already stored it.
  const m = await media.findOwned(stale.tenant_id, stale._id);
  if (m.storage_key && m.storage_key !== stale.storage_key) return m;
  const ref = m.provider;
  const fetchFrom = ref ? PROVIDER_FETCH[ref.channel] : undefined;
  if (!ref || !fetchFrom) throw new AppError(404, 'not_found', 'Media file is missing from storage');
  const account = await integrationAccounts.findOwnedOrNull(m.tenant_id, ref.account_id);
  if (!account) throw providerError(`The ${ref.channel} account this media arrived on is no longer connected, so it cannot be fetched`);
  let file: Awaited<ReturnType<ProviderFetch>>;
  try {
    file = await fetchFrom(credentialsFor(account), ref.media_id);
  } catch (err) {
    if (!(err instanceof ChannelSendError)) throw err;
    throw providerError(`${ref.channel} did not hand over media ${ref.media_id}: ${err.message}`);
  }
  if (file.checksumOk === false) throw providerError(`${ref.channel} media ${ref.media_id} arrived with a SHA-256 different from the one announced`);
  const contentType = file.mimeType ?? m.content_type ?? 'application/octet-stream';
  const stored = await storeBytes(m.tenant_id, m._id, file.bytes, contentType, m.filename ?? `${ref.channel}-${ref.media_id}`);
  return media.update(m.tenant_id, m._id, stored);
}

/** The media fields that say where bytes went once they are put in the configured storage. */
type StoredFields = { [K in 'storage_key' | 'storage' | 'filename' | 'content_type' | 'size' | 'sha256']: NonNullable<Media[K]> };

/** Puts a media document's bytes in the configured storage under a safe name; answers its storage fields. */
async function storeBytes(tenantId: string, id: string, bytes: Buffer, contentType: string, filenameHint: string): Promise<StoredFields> {
  const filename = safeFilename(filenameHint, contentType);
  const storage = appContext().storage;
  const key = storageKey(tenantId, id, filename);
  await putBytes(storage, key, bytes, contentType, bytes.length);
  return { storage_key: key, storage: storage.driver, filename, content_type: contentType, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

// ---- attachments delivered inline -------------------------------------------------------------

/** A file that arrived inside a webhook, as the channel described it. */
export interface InlineAttachment {
  bytes: Buffer;
  mimeType?: string | undefined;
  filename?: string | undefined;
}

/** Where an inline attachment was stored. */
export interface StoredAttachment {
  url: string;
  contentType: string;
  filename: string;
  size: number;
}

/**
 * Stores an attachment of inbound message `messageExternalId` (its `index`-th) in the configured
 * storage and records it as tenant media, once: the id derives from the message and the place,
 * so a retried delivery finds it stored. Its type is read from the bytes; one that is not an
 * accepted type is kept as application/octet-stream, which downloads and never renders.
 */
export async function storeInboundAttachment(
  tenantId: string,
  channel: ChannelName,
  messageExternalId: string,
  index: number,
  accountId: string,
  file: InlineAttachment,
): Promise<StoredAttachment> {
  const id = naturalId('inline-attachment', tenantId, channel, messageExternalId, String(index));
  const done = await media.findOwnedOrNull(tenantId, id);
  if (done?.storage_key) return { url: mediaUrl(id), contentType: done.content_type ?? 'application/octet-stream', filename: done.filename ?? 'file', size: done.size ?? 0 };
  const type = await detectBytesType(file.bytes, file.mimeType ?? '', file.filename ?? '');
  const contentType = type.ok ? type.contentType : 'application/octet-stream';
  const stored = await storeBytes(tenantId, id, file.bytes, contentType, file.filename ?? `attachment-${index + 1}`);
  try {
    await media.insert({
      _id: id,
      tenant_id: tenantId,
      ...stored,
      source: 'provider',
      provider: { channel, media_id: `${messageExternalId}/${index}`, account_id: accountId },
      uploaded_by: null,
    });
  } catch (err) {
    // A concurrent try stored the same bytes under the same key first.
    if (!isDuplicateKey(err)) throw err;
  }
  return { url: mediaUrl(id), contentType, filename: stored.filename, size: file.bytes.length };
}
