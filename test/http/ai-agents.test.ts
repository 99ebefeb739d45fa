/**
 * AI Agents over real HTTP: the agents, knowledge sources (text, url through the outbound guard,
 * uploaded TXT/PDF/CSV/DOCX files), Q&A pairs, products with bulk import, and the test message.
 * Every endpoint's success, 400, 401, 403 and 404 for another tenant's AI agent; sources
 * processed in the background through their statuses; a deleted source stops answering at once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import JSZip from 'jszip';
import type { Model } from 'mongoose';
import { AiAgentModel } from '../../src/models/ai-agent.js';
import { AiProductModel } from '../../src/models/ai-product.js';
import { KnowledgeChunkModel, KnowledgeQnaModel, KnowledgeSourceModel } from '../../src/models/knowledge.js';
import { indexesUsed } from '../support/query-plans.js';
import { decryptSecret } from '../../src/crypto/secrets.js';
import { baseUrl } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, type TestSession } from '../support/session.js';
import { until } from '../support/whatsapp.js';

const createAgent = async (s: TestSession, body: Record<string, unknown> = {}) => {
  const res = await s.call('POST', '/api/ai-agents', { body: { name: 'Asisten Toko', ...body } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
};

const addSource = async (s: TestSession, agentId: string, body: Record<string, unknown>) => {
  const res = await s.call('POST', `/api/ai-agents/${agentId}/knowledge-sources`, { body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
};

/** The source once it left pending/processing. */
const settled = (s: TestSession, agentId: string, sourceId: string) =>
  until(async () => {
    const res = await s.call('GET', `/api/ai-agents/${agentId}/knowledge-sources?limit=100`);
    const found = (res.body.data as { id: string; status: string }[]).find((x) => x.id === sourceId);
    return found && (found.status === 'ready' || found.status === 'failed') ? found : null;
  }, `source ${sourceId} processed`);

const ask = async (s: TestSession, agentId: string, message: string) => {
  const res = await s.call('POST', `/api/ai-agents/${agentId}/test`, { body: { message } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body;
};

/** A one-page PDF whose page shows `text` (Helvetica, one line). */
function pdfWith(text: string): Buffer {
  const stream = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A minimal Word document whose one paragraph is `text`. */
async function docxWith(text: string): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>');
  zip.file('_rels/.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>');
  zip.file('word/document.xml', `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>${text}</w:t></w:r></w:p></w:body></w:document>`);
  return zip.generateAsync({ type: 'nodebuffer' });
}

async function upload(s: TestSession, bytes: Buffer, type: string, filename: string): Promise<string> {
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(bytes)], { type }), filename);
  const res = await fetch(`${baseUrl()}/api/media/upload`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: fd });
  const body = (await res.json()) as { id?: string; data?: { id: string }[] };
  expect(res.status, JSON.stringify(body)).to.be.oneOf([200, 201]);
  return (body.id ?? body.data?.[0]?.id) as string;
}

describe('AI agents', () => {
  let s: TestSession;
  let other: TestSession;
  let agent: { id: string };
  let foreign: { id: string };
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    agent = await createAgent(s);
    foreign = await createAgent(other, { name: 'Asisten Lain' });
  });

  describe('GET /api/ai-agents', () => {
    itChecksAccess('GET', () => '/api/ai-agents', 'ai_agents.view', () => s);
    it('lists the tenant’s agents only, newest first, filtered by active', async () => {
      const off = await createAgent(s, { name: 'Nonaktif', active: false });
      const res = await s.call('GET', '/api/ai-agents?limit=100');
      expect(res.status).to.equal(200);
      const ids = res.body.data.map((a: { id: string }) => a.id);
      expect(ids).to.include.members([agent.id, off.id]);
      expect(ids).to.not.include(foreign.id);
      expect(ids.indexOf(off.id)).to.be.lessThan(ids.indexOf(agent.id));
      const active = await s.call('GET', '/api/ai-agents?active=false');
      expect(active.body.data.map((a: { id: string }) => a.id)).to.deep.equal([off.id]);
    });
    it('answers 400 for an unknown parameter', async () => {
      const res = await s.call('GET', '/api/ai-agents?colour=red');
      expect(res.status).to.equal(400);
    });
  });

  describe('POST /api/ai-agents', () => {
    itChecksAccess('POST', () => '/api/ai-agents', 'ai_agents.manage', () => s, { body: { name: 'x' } });
    it('creates a retrieval agent with defaults', async () => {
      const a = await createAgent(s, { name: 'Default' });
      expect(a).to.include({ name: 'Default', active: true, language: 'auto', confidence_threshold: 0.35 });
      expect(a.responder).to.deep.equal({ kind: 'retrieval', base_url: null, model: null, has_api_key: false, timeout_ms: 15000 });
    });
    it('stores a model responder’s key encrypted and never shows it', async () => {
      const a = await createAgent(s, { name: 'Model', responder: { kind: 'openai', base_url: 'https://llm.example/v1', model: 'gpt-4o-mini', api_key: 'sk-secret-123' } });
      expect(a.responder).to.include({ kind: 'openai', has_api_key: true });
      expect(JSON.stringify(a)).to.not.include('sk-secret');
      const stored = await AiAgentModel.findById(a.id).lean().exec();
      expect(stored?.responder.api_key_encrypted).to.match(/^v1:/);
      expect(decryptSecret(stored?.responder.api_key_encrypted as string, { context: `ai-agent:${a.id}:api_key` })).to.equal('sk-secret-123');
    });
    it('answers 400 naming what is wrong', async () => {
      const missing = await s.call('POST', '/api/ai-agents', { body: { description: 'no name' } });
      expect(missing.status).to.equal(400);
      const threshold = await s.call('POST', '/api/ai-agents', { body: { name: 'x', confidence_threshold: 1.5 } });
      expect(threshold.status).to.equal(400);
      const model = await s.call('POST', '/api/ai-agents', { body: { name: 'x', responder: { kind: 'openai', base_url: 'https://llm.example/v1' } } });
      expect(model.status).to.equal(400);
      expect(JSON.stringify(model.body)).to.include('responder.model');
    });
  });

  describe('GET /api/ai-agents/{id}', () => {
    itChecksAccess('GET', () => `/api/ai-agents/${agent.id}`, 'ai_agents.view', () => s);
    it('answers the agent; 400 for a bad id; 404 for another tenant’s', async () => {
      expect((await s.call('GET', `/api/ai-agents/${agent.id}`)).body.id).to.equal(agent.id);
      expect((await s.call('GET', '/api/ai-agents/nope')).status).to.equal(400);
      expect((await s.call('GET', `/api/ai-agents/${foreign.id}`)).status).to.equal(404);
      expect((await s.call('GET', `/api/ai-agents/${randomUUID()}`)).status).to.equal(404);
    });
  });

  describe('PUT /api/ai-agents/{id}', () => {
    itChecksAccess('PUT', () => `/api/ai-agents/${agent.id}`, 'ai_agents.manage', () => s, { body: { name: 'x' } });
    it('changes the fields given and keeps the stored key when none is given', async () => {
      const a = await createAgent(s, { name: 'Ubah', responder: { kind: 'openai', base_url: 'https://llm.example/v1', model: 'm', api_key: 'k1' } });
      const res = await s.call('PUT', `/api/ai-agents/${a.id}`, { body: { instructions: 'Jawab singkat.', responder: { model: 'm2' } } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ instructions: 'Jawab singkat.', name: 'Ubah' });
      expect(res.body.responder).to.include({ model: 'm2', has_api_key: true });
      const cleared = await s.call('PUT', `/api/ai-agents/${a.id}`, { body: { responder: { kind: 'retrieval', api_key: null } } });
      expect(cleared.body.responder).to.include({ kind: 'retrieval', has_api_key: false });
    });
    it('answers 400 for an empty or bad body, 404 for another tenant’s', async () => {
      expect((await s.call('PUT', `/api/ai-agents/${agent.id}`, { body: {} })).status).to.equal(400);
      expect((await s.call('PUT', `/api/ai-agents/${agent.id}`, { body: { language: 'fr' } })).status).to.equal(400);
      expect((await s.call('PUT', `/api/ai-agents/${foreign.id}`, { body: { name: 'mine' } })).status).to.equal(404);
    });
  });

  describe('PUT /api/ai-agents/{id}/toggle', () => {
    itChecksAccess('PUT', () => `/api/ai-agents/${agent.id}/toggle`, 'ai_agents.manage', () => s);
    it('flips active each time', async () => {
      const a = await createAgent(s, { name: 'Toggle' });
      expect((await s.call('PUT', `/api/ai-agents/${a.id}/toggle`)).body.active).to.equal(false);
      expect((await s.call('PUT', `/api/ai-agents/${a.id}/toggle`)).body.active).to.equal(true);
    });
    it('answers 400 for a bad id, 404 for another tenant’s', async () => {
      expect((await s.call('PUT', '/api/ai-agents/x/toggle')).status).to.equal(400);
      expect((await s.call('PUT', `/api/ai-agents/${foreign.id}/toggle`)).status).to.equal(404);
    });
  });

  describe('DELETE /api/ai-agents/{id}', () => {
    itChecksAccess('DELETE', () => `/api/ai-agents/${agent.id}`, 'ai_agents.manage', () => s);
    it('deletes: gone from reads and lists, its knowledge and products removed', async () => {
      const a = await createAgent(s, { name: 'Hapus' });
      await s.call('POST', `/api/ai-agents/${a.id}/products`, { body: { name: 'Kaos', price: 50000 } });
      const res = await s.call('DELETE', `/api/ai-agents/${a.id}`);
      expect(res.status).to.equal(200);
      expect((await s.call('GET', `/api/ai-agents/${a.id}`)).status).to.equal(404);
      expect((await s.call('GET', `/api/ai-agents/${a.id}/products`)).status).to.equal(404);
      expect((await s.call('DELETE', `/api/ai-agents/${a.id}`)).status).to.equal(404);
    });
    it('answers 400 for a bad id, 404 for another tenant’s', async () => {
      expect((await s.call('DELETE', '/api/ai-agents/x')).status).to.equal(400);
      expect((await s.call('DELETE', `/api/ai-agents/${foreign.id}`)).status).to.equal(404);
      expect((await other.call('GET', `/api/ai-agents/${foreign.id}`)).status).to.equal(200);
    });
  });

  describe('knowledge sources', () => {
    let page: http.Server;
    let pageUrl: string;
    before(async () => {
      page = http.createServer((req, res) => {
        if (req.url === '/faq') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end('<html><head><style>.x{}</style><script>var secret = 1</script></head><body><nav>Menu Beranda</nav><h1>Pengiriman</h1><p>Pengiriman ke Makassar memakan waktu 4 hari dengan kurir JNE.</p></body></html>');
        } else if (req.url === '/big') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(Buffer.alloc(6 * 1024 * 1024, 0x61));
        } else {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
      pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => page.close(() => resolve())));

    describe('POST /api/ai-agents/{id}/knowledge-sources', () => {
      itChecksAccess('POST', () => `/api/ai-agents/${agent.id}/knowledge-sources`, 'ai_agents.manage', () => s, { body: { kind: 'text', title: 't', text: 'x' } });
      it('processes a text source in the background: pending, then ready with its chunks, answering', async () => {
        const created = await addSource(s, agent.id, { kind: 'text', title: 'Kebijakan garansi', text: 'Garansi elektronik berlaku 18 bulan sejak tanggal pembelian. Klaim garansi membawa nota asli.' });
        expect(created.status).to.be.oneOf(['pending', 'processing', 'ready']);
        const done = await settled(s, agent.id, created.id);
        expect(done).to.include({ status: 'ready', chunk_count: 1 });
        const a = await ask(s, agent.id, 'garansi elektronik berapa bulan?');
        expect(a.answer).to.include('18 bulan');
        expect(a.sources[0]).to.include({ kind: 'chunk', title: 'Kebijakan garansi' });
      });
      it('fetches a url once through the outbound guard, HTML to text without scripts or navigation', async () => {
        const created = await addSource(s, agent.id, { kind: 'url', title: 'FAQ web', url: `${pageUrl}/faq` });
        const done = await settled(s, agent.id, created.id);
        expect(done.status, JSON.stringify(done)).to.equal('ready');
        const a = await ask(s, agent.id, 'kirim ke makassar berapa hari');
        expect(a.answer).to.include('4 hari');
        expect(a.answer).to.not.include('secret');
      });
      it('fails a url that is too large or missing, with the reason', async () => {
        const big = await settled(s, agent.id, (await addSource(s, agent.id, { kind: 'url', title: 'big', url: `${pageUrl}/big` })).id);
        expect(big).to.include({ status: 'failed' });
        expect((big as unknown as { status_reason: string }).status_reason).to.include('larger than');
        const missing = await settled(s, agent.id, (await addSource(s, agent.id, { kind: 'url', title: 'missing', url: `${pageUrl}/nothing` })).id);
        expect((missing as unknown as { status_reason: string }).status_reason).to.include('HTTP 404');
      });
      it('refuses a private address the guard does not allow', async () => {
        const done = await settled(s, agent.id, (await addSource(s, agent.id, { kind: 'url', title: 'internal', url: 'http://10.0.0.1/' })).id);
        expect(done.status).to.equal('failed');
      });
      it('reads uploaded TXT, PDF, CSV and DOCX files', async () => {
        const txt = await upload(s, Buffer.from('Layanan pelanggan bisa dihubungi lewat nomor 0800-123-456 setiap hari.'), 'text/plain', 'kontak.txt');
        const pdf = await upload(s, pdfWith('Pembelian voucher pulsa tidak dapat dikembalikan.'), 'application/pdf', 'voucher.pdf');
        const csv = await upload(s, Buffer.from('kota,estimasi\nMedan,5 hari\nDenpasar,3 hari\n'), 'text/csv', 'estimasi.csv');
        const docx = await upload(s, await docxWith('Member gold dapat gratis ongkir tanpa minimum belanja.'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'member.docx');
        for (const [title, id] of [['Kontak', txt], ['Voucher', pdf], ['Estimasi', csv], ['Member', docx]] as const) {
          const done = await settled(s, agent.id, (await addSource(s, agent.id, { kind: 'file', title, media_id: id })).id);
          expect(done.status, JSON.stringify(done)).to.equal('ready');
        }
        expect((await ask(s, agent.id, 'nomor layanan pelanggan berapa')).answer).to.include('0800-123-456');
        expect((await ask(s, agent.id, 'voucher pulsa bisa dikembalikan?')).answer).to.include('tidak dapat dikembalikan');
        expect((await ask(s, agent.id, 'member gold gratis ongkir?')).answer).to.include('tanpa minimum belanja');
        expect((await ask(s, agent.id, 'estimasi ke denpasar')).answer).to.include('kota: Denpasar; estimasi: 3 hari');
      });
      it('answers 400 for a missing field of the kind, a foreign media id or a bad url; 404 for another tenant’s agent', async () => {
        expect((await s.call('POST', `/api/ai-agents/${agent.id}/knowledge-sources`, { body: { kind: 'text', title: 't' } })).status).to.equal(400);
        expect((await s.call('POST', `/api/ai-agents/${agent.id}/knowledge-sources`, { body: { kind: 'url', title: 't', url: 'ftp://x' } })).status).to.equal(400);
        expect((await s.call('POST', `/api/ai-agents/${agent.id}/knowledge-sources`, { body: { kind: 'file', title: 't', media_id: randomUUID() } })).status).to.equal(400);
        expect((await s.call('POST', `/api/ai-agents/${foreign.id}/knowledge-sources`, { body: { kind: 'text', title: 't', text: 'x' } })).status).to.equal(404);
      });
    });

    describe('GET /api/ai-agents/{id}/knowledge-sources', () => {
      itChecksAccess('GET', () => `/api/ai-agents/${agent.id}/knowledge-sources`, 'ai_agents.view', () => s);
      it('lists the agent’s sources by status; 400 for a bad status; 404 for another tenant’s', async () => {
        const res = await s.call('GET', `/api/ai-agents/${agent.id}/knowledge-sources?status=ready`);
        expect(res.status).to.equal(200);
        expect(res.body.data.every((x: { status: string }) => x.status === 'ready')).to.equal(true);
        expect((await s.call('GET', `/api/ai-agents/${agent.id}/knowledge-sources?status=odd`)).status).to.equal(400);
        expect((await s.call('GET', `/api/ai-agents/${foreign.id}/knowledge-sources`)).status).to.equal(404);
      });
    });

    describe('POST /api/ai-agents/{id}/knowledge-sources/{sourceId}/reprocess', () => {
      let sourceId: string;
      before(async () => {
        sourceId = (await addSource(s, agent.id, { kind: 'text', title: 'Re', text: 'Kartu member gratis untuk pembelian pertama.' })).id;
        await settled(s, agent.id, sourceId);
      });
      itChecksAccess('POST', () => `/api/ai-agents/${agent.id}/knowledge-sources/${sourceId}/reprocess`, 'ai_agents.manage', () => s);
      it('reads the source again: pending, then ready', async () => {
        const res = await s.call('POST', `/api/ai-agents/${agent.id}/knowledge-sources/${sourceId}/reprocess`);
        expect(res.status).to.equal(202);
        expect(res.body.status).to.equal('pending');
        expect((await settled(s, agent.id, sourceId)).status).to.equal('ready');
        expect((await ask(s, agent.id, 'kartu member gratis?')).answer).to.include('Kartu member');
      });
      it('answers 400 for a bad id, 404 for another agent’s or tenant’s', async () => {
        expect((await s.call('POST', `/api/ai-agents/${agent.id}/knowledge-sources/x/reprocess`)).status).to.equal(400);
        expect((await s.call('POST', `/api/ai-agents/${foreign.id}/knowledge-sources/${sourceId}/reprocess`)).status).to.equal(404);
        expect((await other.call('POST', `/api/ai-agents/${agent.id}/knowledge-sources/${sourceId}/reprocess`)).status).to.equal(404);
      });
    });

    describe('DELETE /api/ai-agents/{id}/knowledge-sources/{sourceId}', () => {
      itChecksAccess('DELETE', () => `/api/ai-agents/${agent.id}/knowledge-sources/${randomUUID()}`, 'ai_agents.manage', () => s);
      it('removes its chunks and pairs from answers at once', async () => {
        const src = await addSource(s, agent.id, { kind: 'text', title: 'Parkir', text: 'Parkir motor gratis di basement toko selama belanja.' });
        await settled(s, agent.id, src.id);
        await s.call('POST', `/api/ai-agents/${agent.id}/knowledge-sources/${src.id}/qna`, { body: { question: 'Apakah ada tempat parkir mobil?', answer: 'Parkir mobil ada di lantai 2.' } });
        expect((await ask(s, agent.id, 'parkir motor gratis?')).answer).to.include('basement');
        expect((await ask(s, agent.id, 'ada parkir mobil?')).answer).to.include('lantai 2');
        const res = await s.call('DELETE', `/api/ai-agents/${agent.id}/knowledge-sources/${src.id}`);
        expect(res.status).to.equal(200);
        const after = await ask(s, agent.id, 'parkir motor gratis?');
        expect(after.answer).to.equal(null);
        expect((await ask(s, agent.id, 'ada parkir mobil?')).answer).to.equal(null);
      });
      it('answers 400 for a bad id, 404 for another tenant’s', async () => {
        expect((await s.call('DELETE', `/api/ai-agents/${agent.id}/knowledge-sources/x`)).status).to.equal(400);
        expect((await s.call('DELETE', `/api/ai-agents/${foreign.id}/knowledge-sources/${randomUUID()}`)).status).to.equal(404);
      });
    });
  });

  describe('Q&A pairs', () => {
    let sourceId: string;
    let foreignSourceId: string;
    before(async () => {
      sourceId = (await addSource(s, agent.id, { kind: 'text', title: 'FAQ', text: 'Pertanyaan umum toko.' })).id;
      foreignSourceId = (await addSource(other, foreign.id, { kind: 'text', title: 'FAQ', text: 'Lain.' })).id;
    });
    const qnaPath = () => `/api/ai-agents/${agent.id}/knowledge-sources/${sourceId}/qna`;

    describe('POST .../qna', () => {
      itChecksAccess('POST', qnaPath, 'ai_agents.manage', () => s, { body: { question: 'q', answer: 'a' } });
      it('adds a pair that answers from the next message', async () => {
        const res = await s.call('POST', qnaPath(), { body: { question: 'Apakah bisa bungkus kado?', answer: 'Bisa, bungkus kado gratis.', alternatives: ['gift wrap available?'] } });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        expect((await ask(s, agent.id, 'bisa dibungkus kado ga?')).answer).to.equal('Bisa, bungkus kado gratis.');
        expect((await ask(s, agent.id, 'is gift wrap available')).answer).to.equal('Bisa, bungkus kado gratis.');
      });
      it('answers 400 for an empty answer, 404 for another tenant’s source', async () => {
        expect((await s.call('POST', qnaPath(), { body: { question: 'q', answer: ' ' } })).status).to.equal(400);
        expect((await s.call('POST', `/api/ai-agents/${agent.id}/knowledge-sources/${foreignSourceId}/qna`, { body: { question: 'q', answer: 'a' } })).status).to.equal(404);
      });
    });

    describe('GET .../qna', () => {
      itChecksAccess('GET', qnaPath, 'ai_agents.view', () => s);
      it('lists the source’s pairs; 400 for a bad page; 404 for another tenant’s', async () => {
        const res = await s.call('GET', qnaPath());
        expect(res.status).to.equal(200);
        expect(res.body.data[0]).to.include({ source_id: sourceId });
        expect((await s.call('GET', `${qnaPath()}?page=0`)).status).to.equal(400);
        expect((await other.call('GET', qnaPath())).status).to.equal(404);
      });
    });

    describe('DELETE .../qna/{qnaId}', () => {
      itChecksAccess('DELETE', () => `${qnaPath()}/${randomUUID()}`, 'ai_agents.manage', () => s);
      it('deletes the pair: it no longer answers', async () => {
        const pair = (await s.call('POST', qnaPath(), { body: { question: 'Apakah menerima pembayaran bitcoin?', answer: 'Belum, kami belum menerima kripto.' } })).body;
        expect((await ask(s, agent.id, 'bayar pakai bitcoin bisa?')).answer).to.include('kripto');
        expect((await s.call('DELETE', `${qnaPath()}/${pair.id}`)).status).to.equal(200);
        expect((await ask(s, agent.id, 'bayar pakai bitcoin bisa?')).answer).to.equal(null);
      });
      it('answers 400 for a bad id, 404 for another tenant’s', async () => {
        expect((await s.call('DELETE', `${qnaPath()}/x`)).status).to.equal(400);
        expect((await other.call('DELETE', `${qnaPath()}/${randomUUID()}`)).status).to.equal(404);
      });
    });
  });

  describe('products', () => {
    const productsPath = () => `/api/ai-agents/${agent.id}/products`;
    const kaos = { name: 'Kaos Polos Premium', sku: 'KPP-01', price: 89000, currency: 'IDR', stock: 25, variants: [{ name: 'Hitam', stock: 10 }, { name: 'Putih', price: 95000, stock: 0 }] };

    describe('POST /api/ai-agents/{id}/products', () => {
      itChecksAccess('POST', productsPath, 'ai_agents.manage', () => s, { body: kaos });
      it('creates a product; price, stock and variant questions answer from its fields', async () => {
        const res = await s.call('POST', productsPath(), { body: kaos });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        expect(res.body).to.include({ price: 89000, currency: 'IDR', stock: 25 });
        const price = await ask(s, agent.id, 'harga kaos polos premium brp?');
        expect(price.answer).to.include('Rp89.000');
        expect(price.sources[0]).to.include({ kind: 'product', id: res.body.id });
        const stock = await ask(s, agent.id, 'kaos polos premium stoknya ada?');
        expect(stock.answer).to.include('25').and.include('Putih');
        const en = await ask(s, agent.id, 'what colors does the kaos polos premium come in?');
        expect(en.answer).to.include('Variants').and.include('Hitam');
      });
      it('answers 409 for a SKU the agent has, 400 for a float price or unknown currency, 404 for another tenant’s', async () => {
        expect((await s.call('POST', productsPath(), { body: kaos })).status).to.equal(409);
        const float = await s.call('POST', productsPath(), { body: { name: 'x', price: 12.5 } });
        expect(float.status).to.equal(400);
        expect(JSON.stringify(float.body)).to.include('minor units');
        expect((await s.call('POST', productsPath(), { body: { name: 'x', price: 1, currency: 'XYZ' } })).status).to.equal(400);
        expect((await s.call('POST', `/api/ai-agents/${foreign.id}/products`, { body: { name: 'x', price: 1 } })).status).to.equal(404);
      });
    });

    describe('GET /api/ai-agents/{id}/products', () => {
      itChecksAccess('GET', productsPath, 'ai_agents.view', () => s);
      it('lists by name; 400 for a bad limit; 404 for another tenant’s', async () => {
        const res = await s.call('GET', productsPath());
        expect(res.status).to.equal(200);
        expect(res.body.data.map((p: { sku: string }) => p.sku)).to.include('KPP-01');
        expect((await s.call('GET', `${productsPath()}?limit=1000`)).status).to.equal(400);
        expect((await other.call('GET', productsPath())).status).to.equal(404);
      });
    });

    describe('PUT and DELETE /api/ai-agents/{id}/products/{productId}', () => {
      let productId: string;
      before(async () => {
        productId = (await s.call('POST', productsPath(), { body: { name: 'Topi Rimba', sku: 'TR-1', price: 45000 } })).body.id;
      });
      itChecksAccess('PUT', () => `${productsPath()}/${productId}`, 'ai_agents.manage', () => s, { body: { price: 1 } });
      itChecksAccess('DELETE', () => `${productsPath()}/${productId}`, 'ai_agents.manage', () => s);
      it('updates the fields given; the answer follows', async () => {
        const res = await s.call('PUT', `${productsPath()}/${productId}`, { body: { price: 39000, stock: 3 } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ price: 39000, stock: 3, name: 'Topi Rimba' });
        expect((await ask(s, agent.id, 'harga topi rimba')).answer).to.include('Rp39.000');
      });
      it('answers 400 for an empty or bad body, 409 for another product’s SKU, 404 for another tenant’s', async () => {
        expect((await s.call('PUT', `${productsPath()}/${productId}`, { body: {} })).status).to.equal(400);
        expect((await s.call('PUT', `${productsPath()}/${productId}`, { body: { stock: -1 } })).status).to.equal(400);
        expect((await s.call('PUT', `${productsPath()}/${productId}`, { body: { sku: 'KPP-01' } })).status).to.equal(409);
        expect((await other.call('PUT', `${productsPath()}/${productId}`, { body: { price: 1 } })).status).to.equal(404);
        expect((await other.call('DELETE', `${productsPath()}/${productId}`)).status).to.equal(404);
        expect((await s.call('DELETE', `${productsPath()}/x`)).status).to.equal(400);
      });
      it('deletes: it no longer answers', async () => {
        expect((await s.call('DELETE', `${productsPath()}/${productId}`)).status).to.equal(200);
        expect((await ask(s, agent.id, 'harga topi rimba')).answer).to.equal(null);
      });
    });

    describe('POST /api/ai-agents/{id}/products/bulk', () => {
      itChecksAccess('POST', () => `${productsPath()}/bulk`, 'ai_agents.manage', () => s, { body: { products: [kaos] } });
      it('imports CSV: creates new SKUs, updates ones the agent has', async () => {
        const csv = 'name,sku,price,currency,stock,description,variants\nKaos Polos Premium,KPP-01,79000,IDR,30,Katun combed,Hitam:79000:12|Putih::0\nCelana Chino,CC-2,150000,IDR,,Slim fit,\n';
        const res = await s.call('POST', `${productsPath()}/bulk`, { body: { csv } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ created: 1, updated: 1 });
        expect((await ask(s, agent.id, 'harga celana chino')).answer).to.include('Rp150.000');
        expect((await ask(s, agent.id, 'harga kaos polos premium')).answer).to.include('Rp79.000');
      });
      it('imports JSON rows', async () => {
        const res = await s.call('POST', `${productsPath()}/bulk`, { body: { products: [{ name: 'Jaket Denim', sku: 'JD-9', price: 300000 }, { name: 'Kaus Kaki', price: 15000, stock: 100 }] } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ created: 2, updated: 0 });
      });
      it('reports every bad row and imports nothing', async () => {
        const before = (await s.call('GET', `${productsPath()}?limit=100`)).body.pagination.total;
        const csv = 'name,sku,price\nSepatu Lari,SL-1,450000\n,SL-2,100\nSandal,SL-3,12.5\nSepatu Lari 2,SL-1,5000\n';
        const res = await s.call('POST', `${productsPath()}/bulk`, { body: { csv } });
        expect(res.status).to.equal(400);
        const rows = (res.body.details as { row: number; field: string }[]).map((d) => `${d.row}:${d.field}`);
        expect(rows).to.include.members(['2:name', '3:price', '4:sku']);
        expect((await s.call('GET', `${productsPath()}?limit=100`)).body.pagination.total).to.equal(before);
        expect((await ask(s, agent.id, 'harga sepatu lari')).answer).to.equal(null);
      });
      it('answers 400 for a body with neither, 404 for another tenant’s', async () => {
        expect((await s.call('POST', `${productsPath()}/bulk`, { body: { rows: [] } })).status).to.equal(400);
        expect((await s.call('POST', `/api/ai-agents/${foreign.id}/products/bulk`, { body: { products: [kaos] } })).status).to.equal(404);
      });
    });
  });

  describe('POST /api/ai-agents/{id}/test', () => {
    itChecksAccess('POST', () => `/api/ai-agents/${agent.id}/test`, 'ai_agents.manage', () => s, { body: { message: 'halo' } });
    it('answers with confidence, threshold and sources, and changes nothing', async () => {
      const before = await s.call('GET', `/api/ai-agents/${agent.id}`);
      const res = await s.call('POST', `/api/ai-agents/${agent.id}/test`, { body: { message: 'bisa bungkus kado?' } });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ responder: 'retrieval', threshold: 0.35, usage: null });
      expect(res.body.confidence).to.be.greaterThan(0.35);
      expect((await s.call('GET', `/api/ai-agents/${agent.id}`)).body.updated_at).to.equal(before.body.updated_at);
      const none = await s.call('POST', `/api/ai-agents/${agent.id}/test`, { body: { message: 'siapa presiden amerika' } });
      expect(none.body.answer).to.equal(null);
      expect(none.body.confidence).to.be.lessThan(0.35);
    });
    it('answers 400 for an empty message, 404 for another tenant’s', async () => {
      expect((await s.call('POST', `/api/ai-agents/${agent.id}/test`, { body: { message: '' } })).status).to.equal(400);
      expect((await s.call('POST', `/api/ai-agents/${foreign.id}/test`, { body: { message: 'halo' } })).status).to.equal(404);
    });
  });

  it('reads lists, the index rebuild and SKU lookups through indexes', async () => {
    const m = (x: unknown) => x as Model<never>;
    const newest = { created_at: -1, _id: -1 } as const;
    const scope = { tenant_id: s.tenantId, ai_agent_id: agent.id };
    expect(await indexesUsed(m(AiAgentModel), { tenant_id: s.tenantId, deleted_at: null }, newest)).to.deep.equal(['tenant_id_1_deleted_at_1_created_at_-1__id_-1']);
    expect(await indexesUsed(m(KnowledgeSourceModel), scope, newest)).to.deep.equal(['tenant_id_1_ai_agent_id_1_created_at_-1__id_-1']);
    expect(await indexesUsed(m(KnowledgeQnaModel), { tenant_id: s.tenantId, source_id: randomUUID() }, newest)).to.deep.equal(['tenant_id_1_source_id_1_created_at_-1__id_-1']);
    expect(await indexesUsed(m(KnowledgeQnaModel), scope, { _id: 1 }, 0)).to.deep.equal(['tenant_id_1_ai_agent_id_1__id_1']);
    expect(await indexesUsed(m(KnowledgeChunkModel), scope, { _id: 1 }, 0)).to.deep.equal(['tenant_id_1_ai_agent_id_1__id_1']);
    expect(await indexesUsed(m(KnowledgeChunkModel), { tenant_id: s.tenantId, source_id: randomUUID() }, {}, 0)).to.deep.equal(['tenant_id_1_source_id_1_generation_1']);
    expect(await indexesUsed(m(AiProductModel), scope, { name: 1, _id: 1 })).to.deep.equal(['tenant_id_1_ai_agent_id_1_name_1__id_1']);
    expect(await indexesUsed(m(AiProductModel), { ...scope, sku: 'KPP-01' }, { sku: 1 }, 1)).to.deep.equal(['tenant_id_1_ai_agent_id_1_sku_1']);
    expect(await indexesUsed(m(AiProductModel), { ...scope, sku: { $in: ['KPP-01', 'CC-2'] } }, { created_at: 1, _id: 1 }, 0)).to.deep.equal(['tenant_id_1_ai_agent_id_1_sku_1']);
  });
});
