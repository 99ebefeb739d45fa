/**
 * Which files OmniStream accepts and how they are named. A file's type is read from its bytes
 * (magic numbers, via file-type), not from what the client declared: a program renamed to
 * `photo.jpg` is refused, a PDF sent as `application/octet-stream` is stored as a PDF. Formats
 * without magic numbers (plain text, CSV) are accepted when declared so and the bytes are text.
 */
import { createReadStream } from 'node:fs';
import { fileTypeFromBuffer, fileTypeFromFile, type FileTypeResult } from 'file-type';

/** An accepted type and its file extensions, the first being the one we add when missing. */
interface AcceptedType {
  type: string;
  exts: string[];
}

// Images, audio, video, PDF, office documents and text: what customers and agents exchange,
// including everything WhatsApp Cloud API sends and accepts (aac, amr, mp3, m4a, ogg/opus, jpeg,
// png, webp stickers, mp4, 3gpp, pdf, doc(x), xls(x), ppt(x), txt). No SVG or HTML: they can
// carry script. No macro-enabled office formats.
// https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media#supported-media-types
const ACCEPTED: AcceptedType[] = [
  { type: 'image/jpeg', exts: ['jpg', 'jpeg', 'jfif'] },
  { type: 'image/png', exts: ['png'] },
  { type: 'image/gif', exts: ['gif'] },
  { type: 'image/webp', exts: ['webp'] },
  { type: 'image/heic', exts: ['heic'] },
  { type: 'image/heif', exts: ['heif'] },
  { type: 'audio/aac', exts: ['aac'] },
  { type: 'audio/amr', exts: ['amr'] },
  { type: 'audio/mpeg', exts: ['mp3'] },
  { type: 'audio/mp4', exts: ['m4a', 'mp4'] },
  { type: 'audio/x-m4a', exts: ['m4a'] },
  { type: 'audio/ogg', exts: ['ogg', 'oga', 'opus'] },
  { type: 'audio/opus', exts: ['opus'] },
  { type: 'audio/wav', exts: ['wav'] },
  { type: 'audio/flac', exts: ['flac'] },
  { type: 'video/mp4', exts: ['mp4'] },
  { type: 'video/x-m4v', exts: ['m4v', 'mp4'] },
  { type: 'video/3gpp', exts: ['3gp', '3gpp'] },
  { type: 'video/quicktime', exts: ['mov'] },
  { type: 'video/webm', exts: ['webm', 'weba'] },
  { type: 'application/pdf', exts: ['pdf'] },
  { type: 'application/msword', exts: ['doc'] },
  { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', exts: ['docx'] },
  { type: 'application/vnd.ms-excel', exts: ['xls'] },
  { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', exts: ['xlsx'] },
  { type: 'application/vnd.ms-powerpoint', exts: ['ppt'] },
  { type: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', exts: ['pptx'] },
  { type: 'application/vnd.openxmlformats-officedocument.presentationml.slideshow', exts: ['ppsx'] },
  { type: 'application/vnd.oasis.opendocument.text', exts: ['odt'] },
  { type: 'application/vnd.oasis.opendocument.spreadsheet', exts: ['ods'] },
  { type: 'application/vnd.oasis.opendocument.presentation', exts: ['odp'] },
  { type: 'application/rtf', exts: ['rtf'] },
  { type: 'text/plain', exts: ['txt', 'text', 'log'] },
  { type: 'text/csv', exts: ['csv'] },
];

const byType = new Map(ACCEPTED.map((a) => [a.type, a]));

/** Legacy office files are OLE containers, which magic numbers only name as "cfb". */
const CFB_TYPES = new Set(['application/msword', 'application/vnd.ms-excel', 'application/vnd.ms-powerpoint']);
const TEXT_TYPES = new Set(['text/plain', 'text/csv']);

/** The short human list of what is accepted, for 415 answers. */
export const ACCEPTED_SUMMARY = 'images (JPEG, PNG, GIF, WebP, HEIC), audio (AAC, AMR, MP3, M4A, OGG/Opus, WAV, FLAC), video (MP4, 3GPP, MOV, WebM), PDF, office documents (Word, Excel, PowerPoint, OpenDocument, RTF) and plain text or CSV';

const baseType = (t: string) => (t.split(';')[0] ?? '').trim().toLowerCase();
const extensionOf = (name: string) => /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase() ?? '';

/** The accepted type a declared type or file extension names, if any. */
function claimedType(declaredType: string, filename: string): string | null {
  const declared = baseType(declaredType);
  if (byType.has(declared)) return declared;
  const ext = extensionOf(filename);
  return ACCEPTED.find((a) => a.exts.includes(ext))?.type ?? null;
}

/** What the bytes of an upload are. */
export type DetectedType = { ok: true; contentType: string } | { ok: false; detected: string | null };

/** Reads the file's type from its bytes and says whether it is accepted. */
export async function detectMediaType(path: string, declaredType: string, filename: string): Promise<DetectedType> {
  return judgeType(await fileTypeFromFile(path), () => createReadStream(path), declaredType, filename);
}

/** The same for bytes in memory (an attachment that arrived inside a webhook). */
export async function detectBytesType(bytes: Buffer, declaredType: string, filename: string): Promise<DetectedType> {
  return judgeType(await fileTypeFromBuffer(bytes), () => [bytes], declaredType, filename);
}

async function judgeType(found: FileTypeResult | undefined, chunks: () => AsyncIterable<unknown> | Iterable<unknown>, declaredType: string, filename: string): Promise<DetectedType> {
  const claimed = claimedType(declaredType, filename);
  if (found) {
    if (found.mime === 'application/x-cfb') {
      return claimed && CFB_TYPES.has(claimed) ? { ok: true, contentType: claimed } : { ok: false, detected: found.mime };
    }
    return byType.has(baseType(found.mime)) ? { ok: true, contentType: found.mime } : { ok: false, detected: found.mime };
  }
  if (claimed && TEXT_TYPES.has(claimed)) {
    const text = await textEncoding(chunks());
    if (text) return { ok: true, contentType: text === 'utf-8' ? `${claimed}; charset=utf-8` : claimed };
  }
  return { ok: false, detected: null };
}

/**
 * 'utf-8' when the bytes are UTF-8 text, 'other' for text in a legacy 8-bit encoding (Excel's
 * CSV export), null when they hold NUL or control characters no text file has.
 */
async function textEncoding(chunks: AsyncIterable<unknown> | Iterable<unknown>): Promise<'utf-8' | 'other' | null> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let utf8 = true;
  for await (const chunk of chunks) {
    const bytes = chunk as Buffer;
    // Tab, LF, VT, FF, CR and ESC are the only C0 controls text files carry.
    for (const b of bytes) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0b && b !== 0x0c && b !== 0x0d && b !== 0x1b) return null;
    if (utf8) {
      try {
        decoder.decode(bytes, { stream: true });
      } catch {
        utf8 = false;
      }
    }
  }
  if (utf8) {
    try {
      decoder.decode();
    } catch {
      utf8 = false;
    }
  }
  return utf8 ? 'utf-8' : 'other';
}

const MAX_NAME_CHARS = 120;

/**
 * A display and download name: no path, no control or bidi-override characters (which can make
 * `exe.jpg` read as `gpj.exe`), no characters Windows refuses, at most 120 characters, and
 * ending in an extension of its content type so it opens with the right program.
 */
export function safeFilename(raw: string, contentType: string): string {
  let name = (raw.split(/[\\/]/).pop() ?? '')
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.\s]+|[.\s]+$/g, '');
  const accepted = byType.get(baseType(contentType));
  const ext = extensionOf(name);
  const wanted = accepted && !accepted.exts.includes(ext) ? `.${accepted.exts[0]}` : '';
  if (!name) name = 'file';
  const chars = [...name];
  const room = MAX_NAME_CHARS - wanted.length;
  if (chars.length > room) {
    // Keep the extension when cutting a long name.
    const tail = ext && !wanted ? `.${ext}` : '';
    name = chars.slice(0, room - tail.length).join('').trimEnd() + tail;
  }
  return name + wanted;
}

/** The ASCII form of a safe filename used in storage keys (S3 and every disk take it as is). */
export function storageName(filename: string): string {
  const ascii = filename
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[._]+|[._]+$/g, '');
  const name = ascii || 'file';
  // The local driver keeps its metadata in `<key>.meta.json`, so no key may end that way.
  return name.endsWith('.meta.json') ? `${name}_` : name;
}

/** True for types a browser may show inline without running anything (the rest downloads). */
export function isInlineSafe(contentType: string): boolean {
  const t = baseType(contentType);
  if (t === 'image/svg+xml') return false;
  return /^(image|audio|video)\//.test(t) || t === 'application/pdf' || TEXT_TYPES.has(t);
}
