/** Schemas of the Media group. */
import { z } from 'zod';
import { BoolQuery } from '../schemas/common.js';

/** POST /api/media/upload and /api/media/s3: the multipart form (read by the route, documented here). */
export const UploadForm = z.strictObject({
  file: z.file().describe('The file: an image, audio, video, PDF, office document or plain text; its type is read from its bytes'),
});

/** GET /api/media/{id} */
export const DownloadQuery = z.strictObject({
  download: BoolQuery.optional().describe('true: always send as an attachment, never inline'),
});

/** A download's body: the file's bytes (null for 304 Not Modified). */
export const MediaStream = z.custom<NodeJS.ReadableStream | null>(
  (v) => v === null || (typeof v === 'object' && typeof (v as { pipe?: unknown }).pipe === 'function'),
);
