/**
 * Secrets at rest (integration access tokens, app secrets, SMTP passwords): AES-256-GCM under
 * ENCRYPTION_KEY. A stored value is `v1:<iv>:<tag>:<ciphertext>` (base64url parts): the version
 * says how to read it, so the format or key can change later without guessing; the random
 * 96-bit IV makes two encryptions of one secret differ; the GCM tag makes any change to the
 * stored text (or decrypting under another key) fail loudly instead of yielding garbage.
 *
 * An optional `context` is bound as additional authenticated data: a ciphertext copied from one
 * document or field into another (`integration-account:<id>:access_token`) does not decrypt.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { appContext } from '../context.js';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
// NIST SP 800-38D: 96-bit IVs are the recommended size for GCM.
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PART = /^[A-Za-z0-9_-]*$/;

/** Where a secret belongs and which key protects it. */
export interface SecretOptions {
  /** Binds the ciphertext to its place (document and field); the same context must be given to decrypt. */
  context?: string;
  /** 32-byte key; the configured ENCRYPTION_KEY by default. */
  key?: Buffer;
}

/** A stored secret that cannot be read: malformed, tampered with, or under another key or context. */
export class SecretDecryptError extends Error {
  constructor(reason: string) {
    super(`stored secret cannot be decrypted: ${reason}`);
    this.name = 'SecretDecryptError';
  }
}

function keyOf(opts: SecretOptions): Buffer {
  const key = opts.key ?? appContext().config.encryptionKey;
  if (key.length !== 32) throw new Error('the encryption key must be 32 bytes');
  return key;
}

const aad = (opts: SecretOptions) => Buffer.from(`${VERSION}\u001f${opts.context ?? ''}`, 'utf8');

/** Encrypts `plain` into the versioned stored form. */
export function encryptSecret(plain: string, opts: SecretOptions = {}): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, keyOf(opts), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(opts));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join(':');
}

/** Decrypts a value made by encryptSecret with the same key and context; SecretDecryptError otherwise. */
export function decryptSecret(stored: string, opts: SecretOptions = {}): string {
  const parts = stored.split(':');
  if (parts.length !== 4 || !parts.every((p) => PART.test(p))) throw new SecretDecryptError('not in the v1:<iv>:<tag>:<data> form');
  const [version, ivText, tagText, dataText] = parts as [string, string, string, string];
  if (version !== VERSION) throw new SecretDecryptError(`unknown version ${version}`);
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretDecryptError('bad IV or tag length');
  const decipher = createDecipheriv(ALGORITHM, keyOf(opts), iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(opts));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretDecryptError('authentication failed (tampered, or another key or context)');
  }
}

/**
 * A keyed digest of a secret, for finding a document by a secret value without storing it in
 * the clear (an encrypted value cannot be searched: its IV is random). HMAC-SHA256 under a key
 * derived from the encryption key, so the digest is useless without it.
 */
export function secretDigest(plain: string, opts: Pick<SecretOptions, 'key'> = {}): string {
  const digestKey = createHmac('sha256', keyOf(opts)).update('omnistream-secret-digest').digest();
  return createHmac('sha256', digestKey).update(plain, 'utf8').digest('hex');
}
