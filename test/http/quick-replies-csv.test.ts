import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { baseUrl } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

const BOM = '\uFEFF';
const HEADER = 'shortcut,title,content,scope,division';

async function addReply(s: TestSession, body: Record<string, unknown>) {
  const res = await s.call('POST', '/api/quick-replies', { body: { title: 'T', ...body } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { id: string; [k: string]: any };
}

async function addDivision(s: TestSession, name: string): Promise<string> {
  const res = await s.call('POST', '/api/divisions', { body: { name } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id as string;
}

/** GET the export as raw text (BOM kept). */
async function exportCsv(s: TestSession, query = '') {
  const res = await fetch(`${baseUrl()}/api/quick-replies/export${query}`, { headers: { authorization: `Bearer ${s.token}` } });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) };
}

/** POSTs `file` as the multipart `file` field of an import. */
async function importCsv(s: TestSession | null, file: string | Buffer, query = '') {
  const fd = new FormData();
  fd.append('file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)], { type: 'text/csv' }), 'quick-replies.csv');
  const res = await fetch(`${baseUrl()}/api/quick-replies/import${query}`, {
    method: 'POST',
    body: fd,
    headers: s ? { authorization: `Bearer ${s.token}` } : {},
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Every visible reply as [shortcut, title, content, scope, division_id], sorted. */
async function snapshot(s: TestSession) {
  const res = await s.call('GET', '/api/quick-replies?limit=100');
  return (res.body.data as any[]).map((r) => [r.shortcut, r.title, r.content, r.scope, r.division_id]).sort((a, b) => String(a).localeCompare(String(b)));
}

const TRICKY = [
  'Halo {{contact.name}}, "terima kasih" sudah menghubungi kami, ya!',
  'Baris satu\nBaris dua, dengan koma\r\nBaris tiga "kutip" 🙏🏽',
  'Pesanan Anda sedang dikirim 🚚📦 — estimasi 2-3 hari. Mohon ditunggu 😊',
  '=HYPERLINK("http://evil.example","klik")',
  "'=sudah dikutip",
  '+62 812 3456 7890 (WhatsApp kami)',
  '-- daftar --\n- item satu\n- item dua',
  '@{{agent.name}} akan membantu Anda',
  '  spasi di depan dan belakang  ',
  "'biasa saja",
  'Ümlaut, ñ, 日本語, العربية, and a tab\there',
];

describe('GET /api/quick-replies/export', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
    const sales = await addDivision(s, 'Penjualan, Utama');
    await addReply(s, { shortcut: 'salam', content: TRICKY[0] });
    await addReply(s, { shortcut: 'multi', content: TRICKY[1] });
    await addReply(s, { shortcut: 'rumus', content: TRICKY[3] });
    await addReply(s, { shortcut: 'div', content: 'Tim penjualan', scope: 'division', division_id: sales });
    await addReply(s, { shortcut: 'saya', content: 'Pribadi', scope: 'personal' });
    const manager = await userWithPermissions(s, ['quick_replies.view', 'quick_replies.manage']);
    await addReply(manager, { shortcut: 'rahasia', content: 'Bukan untuk admin', scope: 'personal' });
  });
  itChecksAccess('GET', () => '/api/quick-replies/export', 'quick_replies.view', () => s);

  it('answers RFC 4180 CSV in UTF-8 with a BOM, a header row, CRLF records and quoted commas, quotes and line breaks', async () => {
    const res = await exportCsv(s);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="quick-replies.csv"/);
    expect([...res.bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const lines = res.text.slice(1).split('\r\n');
    expect(lines[0]).to.equal(HEADER);
    expect(res.text.endsWith('\r\n')).to.equal(true);
    // Tenant-wide by shortcut, then division, then personal; only the caller's own personal ones.
    const rows = parse(res.text, { bom: true }) as string[][];
    expect(rows.slice(1).map((r) => [r[0], r[3], r[4]])).to.deep.equal([
      ['multi', 'tenant', ''],
      ['rumus', 'tenant', ''],
      ['salam', 'tenant', ''],
      ['div', 'division', 'Penjualan, Utama'],
      ['saya', 'personal', ''],
    ]);
    expect(res.text).to.include('"Halo {{contact.name}}, ""terima kasih"" sudah menghubungi kami, ya!"');
    expect(res.text).to.include('"Baris satu\nBaris dua, dengan koma\r\nBaris tiga ""kutip"" 🙏🏽"');
    expect(res.text).to.include('"Penjualan, Utama"');
  });

  it('writes a leading apostrophe before a cell a spreadsheet would run as a formula', async () => {
    const rows = parse((await exportCsv(s)).text, { bom: true }) as string[][];
    expect(rows.find((r) => r[0] === 'rumus')?.[2]).to.equal(`'${TRICKY[3]}`);
  });

  it('leaves the BOM out with bom=false and narrows by the list’s filters', async () => {
    const res = await exportCsv(s, '?bom=false&scope=tenant&q=baris');
    expect(res.text.startsWith(HEADER)).to.equal(true);
    const rows = parse(res.text) as string[][];
    expect(rows.map((r) => r[0])).to.deep.equal(['shortcut', 'multi']);
  });

  it('answers only the header for another tenant, and 400 for bad query parameters', async () => {
    const other = await createSession();
    expect((await exportCsv(other)).text).to.equal(`${BOM}${HEADER}\r\n`);
    for (const q of ['bom=maybe', 'scope=all', 'division_id=1', 'page=2']) {
      expect((await exportCsv(s, `?${q}`)).status, q).to.equal(400);
    }
  });
});

describe('POST /api/quick-replies/import', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('POST', () => '/api/quick-replies/import', 'quick_replies.manage', () => s);

  it('round-trips an export exactly: quotes, commas, line breaks, formulas, Indonesian and emoji', async () => {
    const source = await createSession();
    const division = await addDivision(source, 'Dukungan "VIP", Jakarta');
    const target = await createSession();
    await addDivision(target, 'Dukungan "VIP", Jakarta');
    for (const [i, content] of TRICKY.entries()) {
      const scope = i % 3 === 0 ? 'division' : i % 3 === 1 ? 'personal' : 'tenant';
      await addReply(source, { shortcut: `k${i}`, title: `Judul ${i}, "kutip" 🎉`, content, scope, ...(scope === 'division' ? { division_id: division } : {}) });
    }
    const exported = await exportCsv(source);
    const imported = await importCsv(target, exported.bytes);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
    expect(imported.body).to.include({ dry_run: false, created: TRICKY.length, updated: 0, unchanged: 0, rejected: 0 });
    const strip = (rows: unknown[][]) => rows.map((r) => r.slice(0, 4));
    expect(strip(await snapshot(target))).to.deep.equal(strip(await snapshot(source)));
    // The division was found by name in the target; the export of the copy is the same file, byte for byte.
    expect((await exportCsv(target)).bytes.equals(exported.bytes)).to.equal(true);
    // Importing it again changes nothing.
    const twice = await importCsv(target, exported.bytes);
    expect(twice.body).to.include({ created: 0, updated: 0, unchanged: TRICKY.length, rejected: 0 });
  });

  it('applies the valid rows and reports every row with its number and the reasons for rejecting it', async () => {
    const t = await createSession();
    await addDivision(t, 'Sales');
    await addReply(t, { shortcut: 'ada', content: 'lama' });
    await addReply(t, { shortcut: 'tetap', title: 'Tetap', content: 'sama' });
    const file = [
      HEADER,
      'baru,Baru,"Halo {{contact.name}}",tenant,', // row 2: created
      'ADA,Ada,"baru, diperbarui",,', // row 3: updated (same shortcut, any case; empty scope = tenant)
      'tetap,Tetap,sama,tenant,', // row 4: unchanged
      'bad one,X,"{{contact.nama}}",tenant,', // row 5: two reasons
      'dvs,Div,"Baris\nkedua",division,sales', // row 6 (lines 6-7): created in a division found by name, any case
      'x,X,y,division,Nope', // row 7 (line 8): unknown division
      'baru,Lagi,lagi,tenant,', // row 8: repeats row 2
      'p,Pribadi,isi,personal,Sales', // row 9: division on a personal row
      'q,Q,isi,everyone,', // row 10: unknown scope
    ].join('\r\n');
    const res = await importCsv(t, file);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ dry_run: false, created: 2, updated: 1, unchanged: 1, rejected: 5 });
    const byRow = Object.fromEntries(res.body.rows.map((r: any) => [r.row, r]));
    expect(res.body.rows.map((r: any) => [r.row, r.line, r.status])).to.deep.equal([
      [2, 2, 'created'],
      [3, 3, 'updated'],
      [4, 4, 'unchanged'],
      [5, 5, 'rejected'],
      [6, 6, 'created'],
      [7, 8, 'rejected'],
      [8, 9, 'rejected'],
      [9, 10, 'rejected'],
      [10, 11, 'rejected'],
    ]);
    expect(byRow[5].errors.map((e: any) => e.field)).to.deep.equal(['shortcut', 'content']);
    expect(byRow[5].errors[1].message).to.include('{{contact.nama}}');
    expect(byRow[7].errors).to.deep.equal([{ field: 'division', message: '"Nope" is not a division of this organization' }]);
    expect(byRow[8].errors[0].message).to.include('repeats row 2');
    expect(byRow[9].errors[0].field).to.equal('division');
    expect(byRow[10].errors[0].field).to.equal('scope');
    expect(byRow[2].id).to.match(/^[0-9a-f-]{36}$/);
    const list = await t.call('GET', '/api/quick-replies?limit=100');
    const find = (sc: string) => list.body.data.find((r: any) => r.shortcut === sc);
    expect(find('ada')).to.include({ title: 'Ada', content: 'baru, diperbarui', id: byRow[3].id });
    expect(find('dvs')).to.include({ scope: 'division', content: 'Baris\nkedua' });
    expect(list.body.data).to.have.length(4);
  });

  it('refuses a malformed file whole with a 400 and applies nothing', async () => {
    const t = await createSession();
    const good = 'ok1,Ok,fine,tenant,';
    const files: [string, string | Buffer, string][] = [
      ['an unbalanced quote', `${HEADER}\r\n${good}\r\nbroken,X,"never closed,tenant,\r\n`, 'line 3'],
      ['a stray quote', `${HEADER}\r\n${good}\r\nstray,X,say "hi",tenant,\r\n`, 'line 3'],
      ['a short row', `${HEADER}\r\n${good}\r\nshort,X\r\n`, 'line 3'],
      ['a long row', `${HEADER}\r\n${good}\r\nlong,X,y,tenant,,extra\r\n`, 'line 3'],
      ['a wrong header', `shortcut,title,body,scope,division\r\n${good}\r\n`, 'missing content'],
      ['a missing column', `shortcut,title,content,scope\r\nok1,Ok,fine,tenant\r\n`, 'missing division'],
      ['a repeated column', `shortcut,title,content,scope,division,title\r\nok1,Ok,fine,tenant,,x\r\n`, 'repeated title'],
      ['an empty file', '', 'empty'],
      ['not UTF-8', Buffer.concat([Buffer.from(`${HEADER}\r\nok1,Ok,caf`), Buffer.from([0xe9]), Buffer.from(',tenant,\r\n')]), 'UTF-8'],
      ['too many rows', `${HEADER}\r\n${Array.from({ length: 5001 }, (_, i) => `r${i},T,c,tenant,`).join('\r\n')}`, '5001 rows'],
    ];
    for (const [what, file, says] of files) {
      const res = await importCsv(t, file);
      expect(res.status, what).to.equal(400);
      expect(res.body.code, what).to.equal('validation_error');
      expect(res.body.message, what).to.include('body.file').and.include(says);
    }
    expect((await t.call('GET', '/api/quick-replies')).body.data, 'nothing applied').to.deep.equal([]);
  });

  it('reads a BOM, semicolons (Excel in Indonesian locale), LF line ends and columns in any order', async () => {
    const t = await createSession();
    const res = await importCsv(t, `${BOM}Title;Shortcut;Content;Scope;Division\nSalam;salam;"Halo; apa kabar? 😊";tenant;\n`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.created).to.equal(1);
    const [reply] = (await t.call('GET', '/api/quick-replies')).body.data;
    expect(reply).to.include({ shortcut: 'salam', title: 'Salam', content: 'Halo; apa kabar? 😊', scope: 'tenant' });
  });

  it('reports without applying on dry_run=true', async () => {
    const t = await createSession();
    const res = await importCsv(t, `${HEADER}\r\nsatu,Satu,isi,tenant,\r\nbad,,isi,tenant,\r\n`, '?dry_run=true');
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ dry_run: true, created: 1, rejected: 1 });
    expect(res.body.rows[0]).to.include({ status: 'created', id: null });
    expect((await t.call('GET', '/api/quick-replies')).body.data).to.deep.equal([]);
  });

  it('makes personal rows the importer’s own and matches them only against the importer’s', async () => {
    const t = await createSession();
    const manager = await userWithPermissions(t, ['quick_replies.view', 'quick_replies.manage']);
    await addReply(manager, { shortcut: 'mine', content: 'manager', scope: 'personal' });
    const res = await importCsv(t, `${HEADER}\r\nmine,Mine,admin,personal,\r\n`);
    expect(res.body.created).to.equal(1);
    const [adminOwn] = (await t.call('GET', '/api/quick-replies?scope=personal')).body.data;
    expect(adminOwn).to.include({ content: 'admin', owner_id: t.userId });
    const [managerOwn] = (await manager.call('GET', '/api/quick-replies?scope=personal')).body.data;
    expect(managerOwn).to.include({ content: 'manager', owner_id: manager.userId });
  });

  it('answers 400 for a body that is not a one-file form, and 413 for a file over the limit', async () => {
    const json = await s.call('POST', '/api/quick-replies/import', { body: { file: 'x' } });
    expect(json.status).to.equal(400);
    expect(json.body.message).to.include('multipart/form-data');
    const big = await importCsv(s, Buffer.alloc(2 * 1024 * 1024 + 1, 'a'));
    expect(big.status).to.equal(413);
    expect((await importCsv(s, `${HEADER}\r\n`, '?dry_run=perhaps')).status).to.equal(400);
  });

  it('is documented as a multipart upload, and the export as text/csv', async () => {
    const doc = (await s.call('GET', '/api/openapi.json')).body;
    const imp = doc.paths['/api/quick-replies/import'].post;
    expect(imp.requestBody.content['multipart/form-data'].schema.properties.file).to.include({ type: 'string', format: 'binary' });
    expect(imp['x-permission']).to.equal('quick_replies.manage');
    expect(Object.keys(imp.responses)).to.include.members(['200', '400', '401', '403', '413', '429']);
    const exp = doc.paths['/api/quick-replies/export'].get;
    expect(Object.keys(exp.responses['200'].content)).to.deep.equal(['text/csv; charset=utf-8']);
    expect(Object.keys(doc.paths['/api/quick-replies'].post.responses)).to.include.members(['201', '400', '401', '403', '409', '429']);
    const rows = Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/quick-replies')).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m} ${p}`));
    expect(rows.sort()).to.deep.equal(
      [
        'get /api/quick-replies',
        'post /api/quick-replies',
        'delete /api/quick-replies/{id}',
        'patch /api/quick-replies/{id}',
        'get /api/quick-replies/export',
        'post /api/quick-replies/import',
        'post /api/quick-replies/{id}/use',
        'post /api/quick-replies/{id}/favorite',
        'delete /api/quick-replies/{id}/favorite',
      ].sort(),
    );
  });
});

