/**
 * Media files: uploads by agents and attachments customers sent through a provider. The bytes
 * live in media storage (local disk or S3) under `storage_key`; this document says what they are.
 *
 * Provider media (a WhatsApp media id) gets `_id` = naturalId('provider-media', tenant, channel,
 * media id), so every message naming the same media id maps to one document, created exactly
 * once whoever gets there first. It starts without `storage_key`; the first download fetches it
 * from the provider and stores it, and later downloads are served from storage.
 */
import { model } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** Where the bytes came from. */
export type MediaSource = 'upload' | 'provider';

/** Which storage driver holds the bytes. */
export type MediaStorageDriver = 'local' | 's3';

/** The provider media a document stands for. */
export interface ProviderMediaRef {
  channel: ChannelName;
  /** The provider's media id (WhatsApp `image.id`, ...), a string as the provider sent it. */
  media_id: string;
  /** The integration account the media arrived on: its credentials fetch it. */
  account_id: string;
}

/** A stored media document. */
export interface Media extends TenantDoc {
  /** `<tenant>/<media id>/<safe filename>`; null while provider media is not fetched yet. */
  storage_key: string | null;
  /** The storage holding `storage_key`; null while not fetched. */
  storage: MediaStorageDriver | null;
  /** A safe display and download name. */
  filename: string | null;
  content_type: string | null;
  size: number | null;
  /** Hex SHA-256 of the bytes. */
  sha256: string | null;
  source: MediaSource;
  provider: ProviderMediaRef | null;
  /** The agent who uploaded it (null for provider media). */
  uploaded_by: string | null;
}

const schema = baseSchema<Media>(
  {
    tenant_id: { type: String, required: true },
    storage_key: { type: String, default: null },
    storage: { type: String, default: null },
    filename: { type: String, default: null },
    content_type: { type: String, default: null },
    size: { type: Number, default: null },
    sha256: { type: String, default: null },
    source: { type: String, required: true, enum: ['upload', 'provider'] },
    provider: {
      type: { channel: String, media_id: String, account_id: String, _id: false },
      default: null,
    },
    uploaded_by: { type: String, default: null },
  },
  'media',
);
// Reads are by `_id` (the download URL names it), except the platform's storage usage, which
// sums a tenant's sizes from this index alone (a covered scan).
schema.index({ tenant_id: 1, size: 1 });

/** The media collection. */
export const MediaModel = model<Media>('Media', schema);

/** The bytes a tenant's stored media take. */
export async function mediaBytesOf(tenantId: string): Promise<number> {
  const [row] = await MediaModel.aggregate<{ bytes: number }>([
    { $match: { tenant_id: tenantId, size: { $gt: 0 } } },
    { $group: { _id: null, bytes: { $sum: '$size' } } },
  ]).exec();
  return row?.bytes ?? 0;
}

/** Tenant-scoped access to media. */
export const media = tenantRepo(MediaModel, 'Media');
