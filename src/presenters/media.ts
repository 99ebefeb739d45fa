/** The media resource: an uploaded or provider file and where to download it. */
import { z } from 'zod';
import type { Media } from '../models/media.js';
import { iso } from './page.js';

/** The download URL of a media id (relative to the API host; needs media.view). */
export const mediaUrl = (id: string): string => `/api/media/${id}`;

/** The media JSON shape. */
export const MediaBody = z.object({
  id: z.uuid(),
  url: z.string().describe('GET it with media.view to download the bytes'),
  status: z.enum(['ready', 'pending']).describe('pending: provider media not fetched yet (the first download fetches it)'),
  filename: z.string().nullable(),
  content_type: z.string().nullable(),
  size: z.number().int().nullable(),
  sha256: z.string().nullable().describe('Hex SHA-256 of the bytes'),
  source: z.enum(['upload', 'provider']),
  provider: z.object({ channel: z.string(), media_id: z.string() }).nullable(),
  storage: z.enum(['local', 's3']).nullable(),
  uploaded_by: z.uuid().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a media document. */
export function presentMedia(m: Media): z.infer<typeof MediaBody> {
  return {
    id: m._id,
    url: mediaUrl(m._id),
    status: m.storage_key ? 'ready' : 'pending',
    filename: m.filename,
    content_type: m.content_type,
    size: m.size,
    sha256: m.sha256,
    source: m.source,
    provider: m.provider ? { channel: m.provider.channel, media_id: m.provider.media_id } : null,
    storage: m.storage,
    uploaded_by: m.uploaded_by,
    created_at: iso(m.created_at) as string,
    updated_at: iso(m.updated_at) as string,
  };
}
