/**
 * readMetaRouting runs on unauthenticated bytes (channels/meta-routing.ts): on multi-megabyte
 * adversarial bodies it must stay linear, never throw for escapes, and still find the routing
 * facts around the junk; nesting deeper than any Meta payload is refused as soon as it is seen.
 */
import { expect } from 'chai';
import { readMetaRouting } from '../../channels/meta-routing.js';
import { extractMessageIds } from '../../channels/email/parse.js';

const MB = 1024 * 1024;

/** A WhatsApp body whose `junk` value is `junk`, with the routing facts after it. */
const around = (junk: string) =>
  Buffer.from(
    `{"object":"whatsapp_business_account","junk":${junk},"entry":[{"id":"102290129340398","changes":[{"value":{"metadata":{"phone_number_id":"106540352242922"}},"field":"messages"}]}]}`,
  );

const ADVERSARIAL: [string, string][] = [
  ['a 6 MB string of backslashes', `"${'\\\\'.repeat(3 * MB)}"`],
  ['a 6 MB string of escaped quotes', `"${'\\"'.repeat(3 * MB)}"`],
  ['6 MB of escaped quotes after odd backslash runs', `"${'\\\\\\"'.repeat(1.5 * MB)}"`],
  ['6 MB of digits', '1'.repeat(6 * MB)],
];

describe('readMetaRouting (bounded, linear pre-verification read)', () => {
  for (const [what, junk] of ADVERSARIAL) {
    it(`reads ${what} in linear time and still routes the body`, async () => {
      const raw = around(junk);
      const t = performance.now();
      const routing = await readMetaRouting(raw);
      const ms = performance.now() - t;
      expect(routing).to.deep.equal({ object: 'whatsapp_business_account', entryIds: ['102290129340398'], phoneNumberIds: ['106540352242922'] });
      // One pass over 6 MB is tens of milliseconds; anything quadratic would take hours.
      expect(ms, `${what}: ${ms.toFixed(0)} ms`).to.be.below(1500);
    });
  }

  for (const [what, junk] of [
    ['6 MB of nested arrays', `${'['.repeat(3 * MB)}${']'.repeat(3 * MB)}`],
    ['6 MB of nested objects', `${'{"a":'.repeat(MB)}1${'}'.repeat(MB)}`],
    ['1 MB of unclosed objects', '{'.repeat(MB)],
  ]) {
    it(`refuses ${what} at the 65th level, before any parser recurses into it`, async () => {
      const error = await readMetaRouting(around(junk as string)).then(() => null, (err: Error) => err);
      expect(error?.message).to.equal('the body nests deeper than 64 levels');
    });
  }

  it('answers without throwing for unclosed strings and unbalanced closing brackets', async () => {
    for (const junk of [`"${'a'.repeat(MB)}`, ']]]]}}}}'.repeat(MB / 8)]) {
      const routing = await readMetaRouting(Buffer.from(`{"object":"page",${junk}`));
      expect(routing.object).to.equal('page');
    }
  });

  it('refuses a body naming more than 100 accounts', async () => {
    const entries = Array.from({ length: 101 }, (_, i) => `{"id":"${1000 + i}"}`).join(',');
    let error: unknown = null;
    await readMetaRouting(Buffer.from(`{"object":"page","entry":[${entries}]}`)).catch((err: unknown) => (error = err));
    expect((error as Error | null)?.message).to.include('more than 100 accounts');
  });
});

describe('extractMessageIds (References and In-Reply-To after verification)', () => {
  it('reads 2 MB built to backtrack (a@a@a@…( and <<<…) in linear time', () => {
    for (const text of [`${'a@'.repeat(MB)}(`, `${'<a@b'.repeat(MB / 2)}`, `${'a@a '.repeat(MB / 2)}(`]) {
      const t = performance.now();
      extractMessageIds(text);
      expect(performance.now() - t).to.be.below(1500);
    }
  });
});
