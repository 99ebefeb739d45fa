import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { expect } from 'chai';
import { Client } from 'minio';
import { appContext } from '../../src/context.js';
import { media } from '../../src/models/media.js';
import { mediaUrlForProviderMedia, providerMediaId } from '../../src/services/media.js';
import { baseUrl, fakeGraph, testServerEnv } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { connectWhatsapp, digits, until, type WhatsappAccount } from '../support/whatsapp.js';

// A 1x1 PNG, a minimal PDF and a Windows program: real magic numbers.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(510, 0x90)]);
const MB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface FilePart {
  field?: string;
  bytes: Buffer;
  type?: string;
  filename?: string;
}

/** A multipart form of files (and text fields), as a browser would send it. */
function form(files: FilePart[], fields: Record<string, string> = {}): FormData {
  const fd = new FormData();
  for (const f of files) fd.append(f.field ?? 'file', new Blob([new Uint8Array(f.bytes)], { type: f.type ?? '' }), f.filename ?? 'file');
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  return fd;
}

/** One request to a server (the test server unless `base` says otherwise). */
async function send(method: string, path: string, opts: { token?: string | null; body?: FormData | string; headers?: Record<string, string>; base?: string } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${opts.base ?? baseUrl()}${path}`, { method, headers, body: opts.body });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString('utf8')) : null;
  return { status: res.status, headers: res.headers, bytes, body: json };
}

const uploadAs = (s: TestSession, files: FilePart[], path = '/api/media/upload', base?: string) =>
  send('POST', path, { token: s.token, body: form(files), ...(base ? { base } : {}) });

/** Temporary upload files the test server (this process) left in the OS temp folder. */
const leftovers = async () => (await readdir(tmpdir())).filter((f) => f.startsWith(`omnistream-upload-${process.pid}-`));

describe('POST /api/media/upload', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('POST', () => '/api/media/upload', 'media.upload', () => s);

  it('stores an image and answers the media resource with its download URL', async () => {
    const res = await uploadAs(s, [{ bytes: PNG, type: 'image/png', filename: 'Bukti Transfer.png' }]);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({
      url: `/api/media/${res.body.id}`,
      status: 'ready',
      filename: 'Bukti Transfer.png',
      content_type: 'image/png',
      size: PNG.length,
      sha256: sha256(PNG),
      source: 'upload',
      provider: null,
      storage: 'local',
      uploaded_by: s.userId,
    });
    const stored = await media.findOwnedOrNull(s.tenantId, res.body.id);
    expect(stored?.tenant_id).to.equal(s.tenantId);
    expect(stored?.storage_key).to.equal(`${s.tenantId}/${res.body.id}/Bukti_Transfer.png`);

    const download = await send('GET', res.body.url, { token: s.token });
    expect(download.status).to.equal(200);
    expect(download.bytes.equals(PNG)).to.equal(true);
    expect(download.headers.get('content-type')).to.equal('image/png');
    expect(download.headers.get('content-length')).to.equal(String(PNG.length));
    expect(download.headers.get('content-disposition')).to.equal('inline; filename="Bukti Transfer.png"');
    expect(download.headers.get('x-content-type-options')).to.equal('nosniff');
  });

  it('trusts the bytes, not the declared type, and makes the name safe', async () => {
    const pdf = await uploadAs(s, [{ bytes: PDF, type: 'application/octet-stream', filename: '../../etc/Laporan\u202Efdp.exe' }]);
    expect(pdf.status, JSON.stringify(pdf.body)).to.equal(201);
    expect(pdf.body.content_type).to.equal('application/pdf');
    expect(pdf.body.filename).to.equal('Laporanfdp.exe.pdf');
    const text = await uploadAs(s, [{ bytes: Buffer.from('Nomor pesanan: 123\nTerima kasih ☕\n'), type: 'text/plain', filename: 'catatan.txt' }]);
    expect(text.status).to.equal(201);
    expect(text.body.content_type).to.equal('text/plain; charset=utf-8');
    const csv = await uploadAs(s, [{ bytes: Buffer.from('name;city\nBudi;Bandung\n'), type: '', filename: 'customers.csv' }]);
    expect(csv.body.content_type).to.equal('text/csv; charset=utf-8');
  });

  it('answers 415 for files whose bytes are not an accepted type, storing nothing', async () => {
    const before = await media.count({ tenant_id: s.tenantId });
    const cases: FilePart[] = [
      { bytes: EXE, type: 'image/jpeg', filename: 'photo.jpg' },
      { bytes: Buffer.from('<html><script>alert(1)</script></html>'), type: 'text/html', filename: 'page.html' },
      { bytes: Buffer.from([0, 1, 2, 3, 0, 0, 7, 8, 9]), type: 'text/plain', filename: 'notes.txt' },
      { bytes: Buffer.from([0x13, 0x37, 0x00, 0xfe, 0x01]), type: 'application/octet-stream', filename: 'blob.bin' },
    ];
    for (const part of cases) {
      const res = await uploadAs(s, [part]);
      expect(res.status, part.filename).to.equal(415);
      expect(res.body.code).to.equal('unsupported_media_type');
      expect(res.body.message).to.match(/^Unsupported file type/).and.to.include('Accepted: images');
    }
    expect((await uploadAs(s, [{ bytes: EXE, type: 'image/jpeg', filename: 'photo.jpg' }])).body.message).to.include('application/x-msdownload');
    expect(await media.count({ tenant_id: s.tenantId })).to.equal(before);
    expect(await until(async () => (await leftovers()).length === 0, 'temporary files removed')).to.equal(true);
  });

  it('answers 413 for a file over MEDIA_MAX_BYTES (16 MB), whether announced or found while streaming', async function () {
    this.timeout(30000);
    const before = await media.count({ tenant_id: s.tenantId });
    // Just over the limit: the Content-Length fits the form allowance, the limit trips mid-stream.
    const justOver = Buffer.concat([PNG, Buffer.alloc(16 * MB + 1 - PNG.length)]);
    const streamed = await uploadAs(s, [{ bytes: justOver, type: 'image/png', filename: 'big.png' }]);
    expect(streamed.status).to.equal(413);
    expect(streamed.body).to.deep.equal({ message: 'File is too large: the limit is 16777216 bytes (16 MB)', code: 'payload_too_large' });
    // Far over: refused from the Content-Length before the body is read.
    const announced = await uploadAs(s, [{ bytes: Buffer.alloc(20 * MB), type: 'image/png', filename: 'bigger.png' }]);
    expect(announced.status).to.equal(413);
    expect(announced.body.code).to.equal('payload_too_large');
    expect(await media.count({ tenant_id: s.tenantId })).to.equal(before);
    expect(await until(async () => (await leftovers()).length === 0, 'temporary files removed')).to.equal(true);
    // Exactly at the limit is fine.
    const atLimit = await uploadAs(s, [{ bytes: Buffer.concat([PNG, Buffer.alloc(16 * MB - PNG.length)]), type: 'image/png', filename: 'limit.png' }]);
    expect(atLimit.status).to.equal(201);
    expect(atLimit.body.size).to.equal(16 * MB);
    // Keep the test server's media folder small across runs.
    const stored = await media.findOwnedOrNull(s.tenantId, atLimit.body.id);
    await appContext().storage.delete(stored?.storage_key as string);
  });

  it('answers 400 for a body that is not one file in a "file" field', async () => {
    const token = s.token;
    const bad: { what: string; body: FormData | string; headers?: Record<string, string> }[] = [
      { what: 'JSON', body: JSON.stringify({ file: 'x' }), headers: { 'content-type': 'application/json' } },
      { what: 'no file', body: form([], { note: 'hello' }) },
      { what: 'another field name', body: form([{ field: 'upload', bytes: PNG, filename: 'a.png' }]) },
      { what: 'an extra field', body: form([{ bytes: PNG, filename: 'a.png' }], { caption: 'x' }) },
      { what: 'two files', body: form([{ bytes: PNG, filename: 'a.png' }, { bytes: PNG, filename: 'b.png' }]) },
      { what: 'an empty file', body: form([{ bytes: Buffer.alloc(0), filename: 'empty.png' }]) },
      { what: 'a cut-off form', body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc', headers: { 'content-type': 'multipart/form-data; boundary=xyz' } },
      { what: 'no boundary', body: 'abc', headers: { 'content-type': 'multipart/form-data' } },
    ];
    for (const b of bad) {
      const res = await send('POST', '/api/media/upload', { token, body: b.body, ...(b.headers ? { headers: b.headers } : {}) });
      expect(res.status, b.what).to.equal(400);
      expect(res.body.code, b.what).to.equal('validation_error');
    }
    const extra = await send('POST', '/api/media/upload', { token, body: form([{ bytes: PNG, filename: 'a.png' }], { caption: 'x' }) });
    expect(extra.body.details).to.deep.include({ in: 'body', field: 'caption', message: 'is not a field of this form (send only "file")' });
    expect(await until(async () => (await leftovers()).length === 0, 'temporary files removed')).to.equal(true);
  });

  it('is documented as a multipart upload in the OpenAPI document', async () => {
    const doc = await send('GET', '/api/openapi.json');
    const op = doc.body.paths['/api/media/upload'].post;
    expect(op.requestBody.content['multipart/form-data'].schema.properties.file).to.include({ type: 'string', format: 'binary' });
    expect(op.responses).to.have.keys(['201', '400', '401', '403', '413', '415', '429']);
    expect(doc.body.paths['/api/media/{id}'].get.responses['200'].content).to.have.key('application/octet-stream');
  });
});

describe('GET /api/media/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let pngId: string;
  let pdfId: string;
  before(async () => {
    s = await createSession();
    other = await createSession();
    pngId = (await uploadAs(s, [{ bytes: PNG, type: 'image/png', filename: 'foto.png' }])).body.id;
    pdfId = (await uploadAs(s, [{ bytes: PDF, type: 'application/pdf', filename: 'Faktur Mei – 2024.pdf' }])).body.id;
  });
  itChecksAccess('GET', () => `/api/media/${pngId}`, 'media.view', () => s);

  it('streams the bytes to a holder of media.view, with cache validators', async () => {
    const viewer = await userWithPermissions(s, ['media.view']);
    const res = await send('GET', `/api/media/${pdfId}`, { token: viewer.token });
    expect(res.status).to.equal(200);
    expect(res.bytes.equals(PDF)).to.equal(true);
    expect(res.headers.get('content-type')).to.equal('application/pdf');
    // Non-ASCII names travel in filename* (RFC 6266), with an ASCII fallback.
    expect(res.headers.get('content-disposition')).to.equal(`inline; filename="Faktur Mei ? 2024.pdf"; filename*=UTF-8''Faktur%20Mei%20%E2%80%93%202024.pdf`);
    expect(res.headers.get('etag')).to.equal(`"${sha256(PDF)}"`);
    expect(res.headers.get('content-security-policy')).to.include('sandbox');
    const again = await send('GET', `/api/media/${pdfId}`, { token: viewer.token, headers: { 'if-none-match': `"${sha256(PDF)}"` } });
    expect(again.status).to.equal(304);
    expect(again.bytes.length).to.equal(0);
    const attachment = await send('GET', `/api/media/${pngId}?download=true`, { token: viewer.token });
    expect(attachment.headers.get('content-disposition')).to.equal('attachment; filename="foto.png"');
  });

  it('answers 404 for another tenant’s media and an unknown id, never its bytes', async () => {
    const res = await send('GET', `/api/media/${pngId}`, { token: other.token });
    expect(res.status).to.equal(404);
    expect(res.body).to.deep.equal({ message: 'Media not found', code: 'not_found' });
    expect((await send('GET', `/api/media/${randomUUID()}`, { token: s.token })).status).to.equal(404);
  });

  it('answers 400 for a malformed id or query', async () => {
    for (const path of ['/api/media/123', `/api/media/${pngId}?download=maybe`, `/api/media/${pngId}?size=large`]) {
      const res = await send('GET', path, { token: s.token });
      expect(res.status, path).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
  });
});

describe('GET /api/media/{id} for provider media (WhatsApp media id)', () => {
  let s: TestSession;
  let other: TestSession;
  let wa: WhatsappAccount;
  const graph = () => fakeGraph();
  const image = Buffer.concat([PNG, randomBytes(64)]);

  /** The fake Graph API answers the media id lookup and the download. */
  function serveMedia(mediaId: string, bytes: Buffer) {
    graph().on('GET', `/v21.0/${mediaId}`, () => ({
      body: { messaging_product: 'whatsapp', url: `${graph().url}/whatsapp_business/attachments/${mediaId}`, mime_type: 'image/png', sha256: sha256(bytes), file_size: bytes.length, id: mediaId },
    }));
    graph().on('GET', `/whatsapp_business/attachments/${mediaId}`, () => ({ raw: bytes, headers: { 'content-type': 'image/png' } }));
  }
  const calls = (mediaId: string) => ({
    lookups: graph().requests.filter((r) => r.path === `/v21.0/${mediaId}`),
    downloads: graph().requests.filter((r) => r.path === `/whatsapp_business/attachments/${mediaId}`),
  });

  before(async () => {
    graph().reset();
    s = await createSession();
    other = await createSession();
    wa = await connectWhatsapp(s);
  });

  it('maps a media id to one pending media document and URL', async () => {
    const mediaId = digits(16);
    const urls = await Promise.all([1, 2, 3].map(() => mediaUrlForProviderMedia(s.tenantId, 'whatsapp', mediaId, wa.accountId, { mimeType: 'image/png' })));
    const id = providerMediaId(s.tenantId, 'whatsapp', mediaId);
    expect(new Set(urls)).to.deep.equal(new Set([`/api/media/${id}`]));
    const doc = await media.findOwnedOrNull(s.tenantId, id);
    expect(doc).to.include({ tenant_id: s.tenantId, source: 'provider', storage_key: null });
    expect(doc?.provider).to.deep.equal({ channel: 'whatsapp', media_id: mediaId, account_id: wa.accountId });
  });

  it('fetches from the Graph API on first access and serves later downloads from storage', async () => {
    const mediaId = digits(16);
    serveMedia(mediaId, image);
    const url = await mediaUrlForProviderMedia(s.tenantId, 'whatsapp', mediaId, wa.accountId, { mimeType: 'image/png' });
    const first = await send('GET', url, { token: s.token });
    expect(first.status, first.bytes.toString()).to.equal(200);
    expect(first.bytes.equals(image)).to.equal(true);
    expect(first.headers.get('content-type')).to.equal('image/png');
    expect(first.headers.get('content-disposition')).to.equal(`inline; filename="whatsapp-${mediaId}.png"`);
    const second = await send('GET', url, { token: s.token });
    expect(second.bytes.equals(image)).to.equal(true);
    const { lookups, downloads } = calls(mediaId);
    expect(lookups).to.have.length(1);
    expect(downloads).to.have.length(1);
    // With the account's token, and naming the number the media belongs to.
    expect(lookups[0]?.headers.authorization).to.match(/^Bearer EAAG/);
    expect(downloads[0]?.headers.authorization).to.equal(lookups[0]?.headers.authorization);
    expect(lookups[0]?.query.get('phone_number_id')).to.equal(wa.phoneNumberId);
    const doc = await media.findOwnedOrNull(s.tenantId, url.split('/').pop() as string);
    expect(doc).to.include({ size: image.length, sha256: sha256(image), content_type: 'image/png', storage: 'local' });
  });

  it('downloads once for a burst of first accesses', async () => {
    const mediaId = digits(16);
    serveMedia(mediaId, image);
    const url = await mediaUrlForProviderMedia(s.tenantId, 'whatsapp', mediaId, wa.accountId);
    const all = await Promise.all([1, 2, 3, 4].map(() => send('GET', url, { token: s.token })));
    expect(all.map((r) => r.status)).to.deep.equal([200, 200, 200, 200]);
    expect(all.every((r) => r.bytes.equals(image))).to.equal(true);
    expect(calls(mediaId).downloads).to.have.length(1);
  });

  it('answers 502 with Meta’s reason when the Graph API refuses, and fetches on a later try', async () => {
    const mediaId = digits(16);
    graph().on('GET', `/v21.0/${mediaId}`, {
      status: 400,
      body: { error: { message: 'Unsupported get request. Object with ID does not exist', type: 'GraphMethodException', code: 100, error_subcode: 33, fbtrace_id: 'AbC' } },
    });
    const url = await mediaUrlForProviderMedia(s.tenantId, 'whatsapp', mediaId, wa.accountId);
    const res = await send('GET', url, { token: s.token });
    expect(res.status).to.equal(502);
    expect(res.body.code).to.equal('provider_error');
    expect(res.body.message).to.include('Unsupported get request');
    serveMedia(mediaId, image);
    const retry = await send('GET', url, { token: s.token });
    expect(retry.status).to.equal(200);
    expect(retry.bytes.equals(image)).to.equal(true);
  });

  it('answers 404 to another tenant, without fetching', async () => {
    const mediaId = digits(16);
    serveMedia(mediaId, image);
    const url = await mediaUrlForProviderMedia(s.tenantId, 'whatsapp', mediaId, wa.accountId);
    const res = await send('GET', url, { token: other.token });
    expect(res.status).to.equal(404);
    expect(calls(mediaId).lookups).to.have.length(0);
    expect(graph().unexpected).to.deep.equal([]);
  });
});

describe('POST /api/media/s3', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('POST', () => '/api/media/s3', 'media.upload', () => s);

  it('answers 503 with a clear message when S3 is not configured', async () => {
    const res = await uploadAs(s, [{ bytes: PNG, type: 'image/png', filename: 'a.png' }], '/api/media/s3');
    expect(res.status).to.equal(503);
    expect(res.body.code).to.equal('storage_unavailable');
    expect(res.body.message).to.include('S3 storage is not configured').and.include('STORAGE_DRIVER=s3');
  });

  describe('on a server with STORAGE_DRIVER=s3 (real MinIO)', () => {
    let server: ServerProcess | null = null;
    let minio: Client;
    const bucket = `omnistream-test-${randomBytes(4).toString('hex')}`;
    before(async function () {
      this.timeout(30000);
      const { TEST_S3_ENDPOINT: endpoint, TEST_S3_ACCESS_KEY: accessKey, TEST_S3_SECRET_KEY: secretKey } = process.env;
      if (!endpoint || !accessKey || !secretKey) this.skip();
      const url = new URL(endpoint);
      minio = new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey, secretKey });
      server = await startServerProcess({ ...testServerEnv(), STORAGE_DRIVER: 's3', S3_ENDPOINT: endpoint, S3_ACCESS_KEY: accessKey, S3_SECRET_KEY: secretKey, S3_BUCKET: bucket });
    });
    after(() => server?.kill());

    const readObject = async (key: string) => {
      const chunks: Buffer[] = [];
      for await (const c of await minio.getObject(bucket, key)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };

    it('stores the upload in the bucket and serves it back', async () => {
      const base = server?.url as string;
      const res = await uploadAs(s, [{ bytes: PDF, type: 'application/pdf', filename: 'kontrak.pdf' }], '/api/media/s3', base);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ storage: 's3', content_type: 'application/pdf', filename: 'kontrak.pdf', size: PDF.length });
      const key = `${s.tenantId}/${res.body.id}/kontrak.pdf`;
      expect((await readObject(key)).equals(PDF)).to.equal(true);
      expect((await minio.statObject(bucket, key)).metaData['content-type']).to.equal('application/pdf');
      const download = await send('GET', res.body.url, { token: s.token, base });
      expect(download.status).to.equal(200);
      expect(download.bytes.equals(PDF)).to.equal(true);
      expect(download.headers.get('content-length')).to.equal(String(PDF.length));
      // A server without S3 settings cannot reach it, and says so.
      const elsewhere = await send('GET', res.body.url, { token: s.token });
      expect(elsewhere.status).to.equal(503);
      expect(elsewhere.body.message).to.include('s3 storage');
    });

    it('puts ordinary uploads there too, and nothing for a refused file', async () => {
      const base = server?.url as string;
      const res = await uploadAs(s, [{ bytes: PNG, type: 'image/png', filename: 'foto.png' }], '/api/media/upload', base);
      expect(res.body.storage).to.equal('s3');
      const refused = await uploadAs(s, [{ bytes: EXE, type: 'application/pdf', filename: 'x.pdf' }], '/api/media/s3', base);
      expect(refused.status).to.equal(415);
      const keys: string[] = [];
      for await (const o of minio.listObjectsV2(bucket, `${s.tenantId}/`, true)) keys.push((o as { name: string }).name);
      expect(keys).to.have.length(2);
      expect(keys).to.include(`${s.tenantId}/${res.body.id}/foto.png`);
    });

    it('answers 404 for another tenant’s media stored in S3', async () => {
      const base = server?.url as string;
      const other = await createSession();
      const res = await uploadAs(s, [{ bytes: PNG, type: 'image/png', filename: 'foto.png' }], '/api/media/s3', base);
      expect((await send('GET', res.body.url, { token: other.token, base })).status).to.equal(404);
    });
  });
});
