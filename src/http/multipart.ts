/**
 * Reads a multipart/form-data upload of exactly one file (busboy), spooling it to a private
 * temporary file while counting and hashing it, so memory stays flat whatever the size and the
 * size limit holds while the bytes arrive. koa-body is configured without multipart, so the
 * request stream reaches the route untouched; the route reads it only after authentication and
 * permission checks, so nobody can make the server take in a large body without credentials.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Context } from 'koa';
import { AppError, ValidationError } from '../errors.js';

/** One uploaded file, on local disk until `discard()`. */
export interface UploadedFile {
  /** Temporary file holding the bytes. */
  path: string;
  /** The name the client gave (untrusted, may be empty). */
  filename: string;
  /** The content type the client declared (untrusted). */
  declaredType: string;
  size: number;
  /** Hex SHA-256 of the bytes. */
  sha256: string;
  /** Removes the temporary file; safe to call twice. */
  discard(): Promise<void>;
}

/** What a form may hold. */
export interface UploadLimits {
  /** The form field carrying the file. */
  field: string;
  /** Largest accepted file. */
  maxBytes: number;
}

// Boundaries and part headers around one file; a body larger than the file limit plus this is
// refused from its Content-Length before a byte is read.
const FORM_OVERHEAD_BYTES = 64 * 1024;

/** The 413 for a file over the limit. */
export const fileTooLarge = (maxBytes: number) =>
  new AppError(413, 'payload_too_large', `File is too large: the limit is ${maxBytes} bytes (${formatBytes(maxBytes)})`);

const formatBytes = (n: number) => (n >= 1024 * 1024 ? `${+(n / (1024 * 1024)).toFixed(1)} MB` : `${+(n / 1024).toFixed(1)} KB`);

const formIssue = (field: string | null, message: string) =>
  ValidationError(`Invalid request body${field ? `.${field}` : ''}: ${message}`, [{ in: 'body', field, message }]);

/**
 * Reads the request's one file. 400 when the body is not multipart, has no file, an empty file,
 * other fields or a second file; 413 when the file is over `maxBytes`. The caller must
 * `discard()` the file when done with it.
 */
export async function readUploadedFile(ctx: Context, limits: UploadLimits): Promise<UploadedFile> {
  if (!ctx.is('multipart/form-data')) {
    throw formIssue(null, `must be multipart/form-data with the file in a "${limits.field}" field`);
  }
  const declaredLength = Number(ctx.get('content-length') || NaN);
  if (declaredLength > limits.maxBytes + FORM_OVERHEAD_BYTES) {
    // Close after answering, so the unread body is not drained.
    ctx.set('Connection', 'close');
    throw fileTooLarge(limits.maxBytes);
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: ctx.req.headers,
      // Browsers send the file name as raw UTF-8 inside the quoted parameter.
      defParamCharset: 'utf8',
      // busboy reports the limit on reaching it; one byte more tells "over" from "exactly at".
      limits: { fileSize: limits.maxBytes + 1, files: 1, fields: 10, fieldSize: 1024, parts: 12, headerPairs: 20 },
    });
  } catch (err) {
    throw formIssue(null, `is not a readable multipart body (${(err as Error).message})`);
  }
  return new Promise<UploadedFile>((resolve, reject) => {
    const problems: { field: string | null; message: string }[] = [];
    let spooled: Promise<UploadedFile> | null = null;
    let fileStream: Readable | null = null;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      // Stop reading: the rest of the body is never parsed, and the half-written spool file is
      // removed (failing its source fails its pipeline, which discards it). Destroyed with an
      // error on purpose: a plain destroy after busboy already pushed the part's end leaves
      // the pipeline waiting for an 'end' that never comes.
      ctx.req.unpipe(parser);
      fileStream?.destroy(err);
      void spooled?.then((f) => f.discard(), () => undefined);
      reject(err);
    };

    parser.on('file', (name, stream, info) => {
      if (name !== limits.field) {
        problems.push({ field: name, message: `is not a field of this form (send only "${limits.field}")` });
        stream.resume();
        return;
      }
      if (spooled) {
        problems.push({ field: name, message: 'must hold exactly one file' });
        stream.resume();
        return;
      }
      stream.once('limit', () => {
        ctx.set('Connection', 'close');
        fail(fileTooLarge(limits.maxBytes));
      });
      fileStream = stream;
      spooled = spool(stream, info.filename ?? '', info.mimeType);
      // A failure here is reported through `close` or `error`; keep it from going unhandled.
      spooled.catch(() => undefined);
    });
    parser.on('field', (name) => problems.push({ field: name, message: `is not a field of this form (send only "${limits.field}")` }));
    parser.on('filesLimit', () => problems.push({ field: limits.field, message: 'must hold exactly one file' }));
    parser.on('fieldsLimit', () => problems.push({ field: null, message: 'has too many fields' }));
    parser.on('partsLimit', () => problems.push({ field: null, message: 'has too many parts' }));
    parser.on('error', (err: Error) => fail(formIssue(null, `is not a readable multipart body (${err.message})`)));
    parser.on('close', () => {
      void (async () => {
        let file: UploadedFile | null = null;
        try {
          file = spooled ? await spooled : null;
        } catch (err) {
          fail(formIssue(limits.field, `could not be read (${(err as Error).message})`));
          return;
        }
        if (settled) {
          await file?.discard();
          return;
        }
        const first = problems[0];
        if (first || !file || file.size === 0) {
          await file?.discard();
          if (first) fail(ValidationError(`Invalid request body${first.field ? `.${first.field}` : ''}: ${first.message}`, problems.map((p) => ({ in: 'body', ...p }))));
          else fail(formIssue(limits.field, file ? 'must not be empty' : `is required: send the file as a multipart field named "${limits.field}"`));
          return;
        }
        settled = true;
        resolve(file);
      })();
    });
    ctx.req.once('close', () => {
      if (!ctx.req.complete) fail(formIssue(null, 'was cut off before its end'));
    });
    ctx.req.pipe(parser);
  });
}

/** Writes `stream` to a fresh temporary file, hashing and counting on the way. */
async function spool(stream: Readable, filename: string, declaredType: string): Promise<UploadedFile> {
  // The pid tells which process a leftover belongs to.
  const path = join(tmpdir(), `omnistream-upload-${process.pid}-${randomUUID()}`);
  const discard = () => rm(path, { force: true });
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  // 0600 and a fresh name: other local users cannot read an upload or plant one.
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  try {
    await pipeline(stream, measure, out);
  } catch (err) {
    // Removing the file before the stream has opened (or closed) it would let it reappear.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    await discard();
    throw err;
  }
  return { path, filename, declaredType, size, sha256: hash.digest('hex'), discard };
}
