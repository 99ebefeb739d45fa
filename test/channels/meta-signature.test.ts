import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { signMetaBody, verifyMetaSignature } from '../../channels/meta-signature.js';

const SECRET = 'a3f1c0ffee5ecret';
// Meta's own bytes: compact JSON, "é" as \u00e9, "/" as \/, an emoji as a surrogate pair.
const RAW = readFileSync(new URL('../fixtures/whatsapp/escaped.json', import.meta.url));
const hmacHex = (body: Buffer | string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

describe('verifyMetaSignature (X-Hub-Signature-256)', () => {
  it('accepts the HMAC-SHA256 of the raw bytes as sha256=<hex>', () => {
    expect(verifyMetaSignature(RAW, `sha256=${hmacHex(RAW)}`, SECRET)).to.deep.equal({ ok: true });
  });

  it('accepts upper-case hex and an upper-case prefix (header values are not normalised by every proxy)', () => {
    expect(verifyMetaSignature(RAW, `SHA256=${hmacHex(RAW).toUpperCase()}`, SECRET)).to.deep.equal({ ok: true });
  });

  it('verifies Meta-escaped bytes, which re-serialized JSON does not reproduce', () => {
    const text = RAW.toString('utf8');
    expect(text).to.contain('\\u00e9').and.to.contain('https:\\/\\/example.com');
    const header = `sha256=${hmacHex(RAW)}`;
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(text)));
    expect(reserialized.equals(RAW)).to.equal(false);
    expect(verifyMetaSignature(RAW, header, SECRET).ok).to.equal(true);
    expect(verifyMetaSignature(reserialized, header, SECRET)).to.deep.equal({ ok: false, reason: 'X-Hub-Signature-256 does not match the body' });
    // A signature computed over the re-serialized text does not verify Meta's bytes either.
    expect(verifyMetaSignature(RAW, `sha256=${hmacHex(reserialized)}`, SECRET).ok).to.equal(false);
  });

  it('rejects a body changed by one byte', () => {
    const tampered = Buffer.from(RAW);
    tampered[tampered.length - 3] = tampered[tampered.length - 3] === 0x5d ? 0x7d : 0x5d;
    expect(verifyMetaSignature(tampered, `sha256=${hmacHex(RAW)}`, SECRET).ok).to.equal(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyMetaSignature(RAW, `sha256=${hmacHex(RAW, 'other')}`, SECRET)).to.deep.equal({ ok: false, reason: 'X-Hub-Signature-256 does not match the body' });
  });

  it('rejects a missing or empty header', () => {
    expect(verifyMetaSignature(RAW, undefined, SECRET)).to.deep.equal({ ok: false, reason: 'missing X-Hub-Signature-256 header' });
    expect(verifyMetaSignature(RAW, '  ', SECRET)).to.deep.equal({ ok: false, reason: 'missing X-Hub-Signature-256 header' });
  });

  it('rejects malformed values without throwing (wrong prefix, sha1, short or non-hex digests)', () => {
    const hex = hmacHex(RAW);
    for (const header of [hex, `sha1=${hex}`, `sha256=${hex.slice(0, 62)}`, `sha256=${hex}00`, `sha256=${'z'.repeat(64)}`, 'sha256=']) {
      expect(verifyMetaSignature(RAW, header, SECRET), header).to.deep.equal({ ok: false, reason: 'X-Hub-Signature-256 is not sha256=<hex>' });
    }
  });

  it('refuses to verify with an empty app secret', () => {
    expect(verifyMetaSignature(RAW, `sha256=${hmacHex(RAW, '')}`, '')).to.deep.equal({ ok: false, reason: 'no app secret configured' });
  });

  it('signMetaBody produces the header Meta would send', () => {
    expect(signMetaBody(RAW, SECRET)).to.equal(`sha256=${hmacHex(RAW)}`);
    expect(verifyMetaSignature(RAW, signMetaBody(RAW.toString('utf8'), SECRET), SECRET).ok).to.equal(true);
  });
});
