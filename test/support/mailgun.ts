/** Mailgun route forwards for tests, as `multipart/form-data` with attachment files. */
import { randomBytes } from 'node:crypto';
import { signMailgunFields } from '../../channels/email/verify.js';

/** One file part. */
export interface FormFile {
  name: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A multipart/form-data body of `fields` and `files`, and its Content-Type. */
export function multipartForm(fields: Record<string, string>, files: FormFile[] = []): { body: Buffer; contentType: string } {
  const boundary = `----omnistream${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\nContent-Type: ${f.contentType}\r\n\r\n`), f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The fields of a fully parsed Mailgun forward to `recipient`, signed with `signingKey`. */
export function mailgunFields(recipient: string, signingKey: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    recipient,
    sender: 'bob@client.example',
    from: 'Bob Santoso <bob@client.example>',
    subject: 'Invoice attached',
    'body-plain': 'Please see the attached invoice.',
    'Message-Id': `<${randomBytes(6).toString('hex')}@client.example>`,
    ...signMailgunFields(signingKey, randomBytes(25).toString('hex')),
    ...overrides,
  };
}
