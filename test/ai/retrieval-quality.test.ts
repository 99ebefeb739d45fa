/**
 * Retrieval quality of the built-in responder on the bilingual fixture
 * (test/fixtures/ai/qna-bilingual.json): 32 Q&A pairs loaded through the API, then every
 * customer phrasing (typos, chat spellings, Indonesian and English) asked through the test
 * endpoint. Prints hits@1 and hits@3; the paraphrases must find their pair and clear the
 * threshold, unrelated questions must not answer. A second server process, sharing only
 * MongoDB, answers the same, and stops answering a deleted pair at once.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { testServerEnv } from '../setup.js';
import { createSession, type TestSession } from '../support/session.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

interface Fixture {
  pairs: { key: string; question: string; answer: string }[];
  probes: { text: string; key: string }[];
  unrelated: string[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/ai/qna-bilingual.json', import.meta.url), 'utf8')) as Fixture;

describe('AI retrieval on the bilingual fixture', function () {
  this.timeout(60_000);
  let s: TestSession;
  let agentId: string;
  let sourceId: string;
  const keyOf = new Map<string, string>();
  const ask = async (message: string, baseUrl?: string) => {
    const res = await s.call('POST', `/api/ai-agents/${agentId}/test`, { body: { message }, ...(baseUrl ? { baseUrl } : {}) });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { answer: string | null; confidence: number; sources: { id: string; kind: string }[] };
  };

  before(async () => {
    s = await createSession();
    agentId = (await s.call('POST', '/api/ai-agents', { body: { name: 'FAQ Toko' } })).body.id;
    sourceId = (await s.call('POST', `/api/ai-agents/${agentId}/knowledge-sources`, { body: { kind: 'text', title: 'FAQ', text: 'FAQ toko.' } })).body.id;
    for (const p of fixture.pairs) {
      const res = await s.call('POST', `/api/ai-agents/${agentId}/knowledge-sources/${sourceId}/qna`, { body: { question: p.question, answer: p.answer } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      keyOf.set(res.body.id, p.key);
    }
  });

  it('has 30+ pairs in both languages', () => {
    expect(fixture.pairs.length).to.be.at.least(30);
    expect(fixture.pairs.filter((p) => p.key.endsWith('-en')).length).to.be.at.least(10);
  });

  it('finds the right pair for paraphrased, misspelt and slangy questions (hits@1, hits@3)', async () => {
    let hits1 = 0;
    let hits3 = 0;
    let answered = 0;
    const misses: string[] = [];
    for (const probe of fixture.probes) {
      const a = await ask(probe.text);
      const keys = a.sources.filter((x) => x.kind === 'qna').map((x) => keyOf.get(x.id));
      if (keys[0] === probe.key) hits1++;
      else misses.push(`${probe.text} -> ${keys[0]} (wanted ${probe.key})`);
      if (keys.slice(0, 3).includes(probe.key)) hits3++;
      if (keys[0] === probe.key && a.answer !== null) answered++;
    }
    const n = fixture.probes.length;
    console.log(`      retrieval on the fixture: hits@1 ${hits1}/${n} (${((hits1 / n) * 100).toFixed(1)}%), hits@3 ${hits3}/${n} (${((hits3 / n) * 100).toFixed(1)}%), answered right ${answered}/${n}; misses: ${misses.join('; ') || 'none'}`);
    expect(hits1 / n).to.be.at.least(0.9);
    expect(hits3 / n).to.be.at.least(0.95);
    expect(answered / n).to.be.at.least(0.85);
  });

  it('gives no answer to questions the knowledge does not cover', async () => {
    for (const text of fixture.unrelated) {
      const a = await ask(text);
      expect(a.answer, text).to.equal(null);
      expect(a.confidence, text).to.be.lessThan(0.35);
    }
  });

  describe('in another server process', () => {
    let second: ServerProcess;
    before(async () => {
      second = await startServerProcess(testServerEnv());
    });
    after(() => second?.kill());

    it('answers the same, and a pair deleted through this process stops answering there at once', async () => {
      for (const probe of fixture.probes.slice(0, 6)) {
        const [here, there] = await Promise.all([ask(probe.text), ask(probe.text, second.url)]);
        expect(there.answer).to.equal(here.answer);
        expect(there.confidence).to.equal(here.confidence);
      }
      const before = await ask('bisa bayar cod ga?', second.url);
      const codId = before.sources[0]?.id as string;
      expect(keyOf.get(codId)).to.equal('cod');
      const res = await s.call('DELETE', `/api/ai-agents/${agentId}/knowledge-sources/${sourceId}/qna/${codId}`);
      expect(res.status).to.equal(200);
      const after = await ask('bisa bayar cod ga?', second.url);
      expect(after.sources.map((x) => x.id)).to.not.include(codId);
    });
  });
});
