/** Media: uploads (local storage or S3) and downloads, including provider media fetched on first access. */
import type { Context } from 'koa';
import type { Principal } from '../../auth/principal.js';
import { MediaBody, presentMedia } from '../../presenters/media.js';
import { getMediaFile, uploadMedia } from '../../services/media.js';
import { isInlineSafe } from '../../services/media-types.js';
import { readUploadedFile } from '../multipart.js';
import type { RouteGroup } from '../mount.js';
import { HttpResult } from '../result.js';
import { route } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { DownloadQuery, MediaStream, UploadForm } from './media.schema.js';

const UPLOAD_ERRORS = {
  413: 'The file is larger than MEDIA_MAX_BYTES (16 MB unless configured)',
  415: 'The file’s bytes are not an accepted type (images, audio, video, PDF, office documents, plain text)',
};

const upload = (ctx: Context, principal: Principal, target: 'default' | 's3') =>
  uploadMedia({
    tenantId: principal.tenantId,
    principal,
    target,
    readFile: (maxBytes) => readUploadedFile(ctx, { field: 'file', maxBytes }),
  });

/** True when If-None-Match names `etag` (or is `*`). */
const notModified = (ctx: Context, etag: string) =>
  ctx.get('if-none-match')
    .split(',')
    .some((t) => ['*', etag, `W/${etag}`].includes(t.trim()));

/** The Media group. */
export const mediaRoutes: RouteGroup = {
  group: 'Media',
  routes: [
    route({
      method: 'post',
      path: '/api/media/upload',
      summary: 'Upload a media file',
      description:
        'multipart/form-data with one `file` field. The type is read from the bytes (magic numbers), not the declared type; the name is made safe. Stored in the configured storage; download it from `url`.',
      access: 'media.upload',
      form: UploadForm,
      response: MediaBody,
      status: 201,
      errors: UPLOAD_ERRORS,
      audit: { action: 'media.uploaded', resource: 'media' },
      handler: async ({ principal, ctx }) => presentMedia(await upload(ctx, principal, 'default')),
    }),
    route({
      method: 'get',
      path: '/api/media/{id}',
      summary: 'Download or proxy a media file',
      description:
        'Streams the bytes with their Content-Type, Content-Length and a Content-Disposition carrying the safe file name (inline for images, audio, video, PDF and text unless `download=true`). Provider media (a WhatsApp media id) is fetched from the provider on first access and served from storage after. ETag is the SHA-256; If-None-Match answers 304.',
      access: 'media.view',
      params: IdParams,
      query: DownloadQuery,
      response: MediaStream,
      produces: 'application/octet-stream',
      alsoSucceeds: { 304: 'Not modified: If-None-Match names the current ETag' },
      errors: {
        502: 'The provider would not hand over the media (expired, or the account was removed)',
        503: 'The storage holding the file is not configured or not answering',
      },
      handler: async ({ params, query, principal, ctx }) => {
        const file = await getMediaFile(principal.tenantId, params.id);
        const { media } = file;
        // The bytes behind an id never change, so a client may keep them.
        ctx.set('Cache-Control', 'private, max-age=86400');
        if (media.sha256) {
          const etag = `"${media.sha256}"`;
          ctx.set('ETag', etag);
          if (notModified(ctx, etag)) return new HttpResult(304, null);
        }
        const bytes = await file.open();
        ctx.set('Content-Type', bytes.contentType);
        ctx.length = bytes.size;
        const inline = !query.download && isInlineSafe(bytes.contentType);
        ctx.attachment(media.filename ?? 'file', { type: inline ? 'inline' : 'attachment' });
        // Opened directly in a browser tab, a file may not run script or load anything.
        ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
        return bytes.stream;
      },
    }),
    route({
      method: 'post',
      path: '/api/media/s3',
      summary: 'Upload a file to S3/MinIO',
      description:
        'The same upload, always stored in S3 (STORAGE_DRIVER=s3, or S3_* settings next to local storage). 503 when S3 is not configured.',
      access: 'media.upload',
      form: UploadForm,
      response: MediaBody,
      status: 201,
      errors: { ...UPLOAD_ERRORS, 503: 'S3 storage is not configured, or did not accept the file' },
      audit: { action: 'media.uploaded', resource: 'media' },
      handler: async ({ principal, ctx }) => presentMedia(await upload(ctx, principal, 's3')),
    }),
  ],
};
