import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { decryptSecret, encryptSecret, SecretDecryptError, secretDigest } from '../../src/crypto/secrets.js';

const key = randomBytes(32);
const otherKey = randomBytes(32);

/** Flips one bit of one base64url part of a stored secret. */
function tamper(stored: string, part: 1 | 2 | 3): string {
  const parts = stored.split(':');
  const bytes = Buffer.from(parts[part] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join(':');
}

describe('encryptSecret / decryptSecret', () => {
  it('round-trips ASCII, Unicode and empty secrets', () => {
    for (const plain of ['EAAG1234567890abcdef', 'päss wörd ✓ 密码', '', 'x'.repeat(5000)]) {
      expect(decryptSecret(encryptSecret(plain, { key }), { key })).to.equal(plain);
    }
  });

  it('stores a versioned value that does not contain the plain text', () => {
    const plain = 'EAAGsupersecrettoken0123456789';
    const stored = encryptSecret(plain, { key });
    expect(stored).to.match(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(stored).not.to.include(plain);
    expect(stored).not.to.include(Buffer.from(plain).toString('base64url'));
  });

  it('uses a fresh IV each time, so one secret encrypts differently twice', () => {
    const a = encryptSecret('same', { key });
    const b = encryptSecret('same', { key });
    expect(a).not.to.equal(b);
    expect(a.split(':')[1]).not.to.equal(b.split(':')[1]);
  });

  it('detects a changed IV, tag or ciphertext', () => {
    const stored = encryptSecret('EAAG-token-value', { key });
    for (const part of [1, 2, 3] as const) {
      expect(() => decryptSecret(tamper(stored, part), { key }), `part ${part}`).to.throw(SecretDecryptError, /authentication failed|length/);
    }
  });

  it('refuses to decrypt under another key', () => {
    const stored = encryptSecret('EAAG-token-value', { key });
    expect(() => decryptSecret(stored, { key: otherKey })).to.throw(SecretDecryptError, /authentication failed/);
  });

  it('binds the ciphertext to its context: copied to another field or account it does not decrypt', () => {
    const stored = encryptSecret('EAAG-token-value', { key, context: 'integration-account:a:access_token' });
    expect(decryptSecret(stored, { key, context: 'integration-account:a:access_token' })).to.equal('EAAG-token-value');
    expect(() => decryptSecret(stored, { key, context: 'integration-account:b:access_token' })).to.throw(SecretDecryptError);
    expect(() => decryptSecret(stored, { key })).to.throw(SecretDecryptError);
  });

  it('refuses malformed values and unknown versions with a clear error', () => {
    const stored = encryptSecret('x', { key });
    const cases = ['', 'plain-token', stored.replace(/^v1/, 'v9'), stored.split(':').slice(0, 3).join(':'), `${stored}:extra`, stored.replace(':', ':!')];
    for (const bad of cases) expect(() => decryptSecret(bad, { key }), bad).to.throw(SecretDecryptError);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => encryptSecret('x', { key: randomBytes(16) })).to.throw(/32 bytes/);
  });
});

describe('secretDigest', () => {
  it('is stable for one key and differs across keys and values', () => {
    expect(secretDigest('verify-me', { key })).to.equal(secretDigest('verify-me', { key }));
    expect(secretDigest('verify-me', { key })).not.to.equal(secretDigest('verify-me', { key: otherKey }));
    expect(secretDigest('verify-me', { key })).not.to.equal(secretDigest('verify-you', { key }));
    expect(secretDigest('verify-me', { key })).to.match(/^[0-9a-f]{64}$/);
  });
});
