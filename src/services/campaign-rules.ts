/**
 * The rules of campaign content and addresses, as pure functions: what each channel may carry
 * in a campaign, how a template's per-recipient parameters are filled, and how a CSV phone
 * number becomes E.164.
 *
 * A campaign to customers is business-initiated, so on WhatsApp it must be a template message
 * (free-form messages only go inside the 24-hour window after the customer wrote):
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages#customer-service-windows
 * Messenger and Instagram campaigns send text, which the providers deliver only to customers who
 * wrote within 24 hours; the others fail with the window as their reason. E-mail sends text.
 */
import type { ChannelName } from '../../channels/types.js';
import type { CampaignMessage } from '../models/campaign.js';
import type { Contact } from '../models/contact.js';

/** The message kinds each channel's campaigns may send. */
export const CAMPAIGN_MESSAGE_TYPES: Record<ChannelName, readonly CampaignMessage['type'][]> = {
  whatsapp: ['template'],
  messenger: ['text'],
  instagram: ['text'],
  email: ['text'],
  // A visitor is only reachable while their widget is open: no campaigns.
  webchat: [],
};

/** Whether this channel's campaigns may send this kind; the reason when not. */
export function campaignMessageProblem(channel: ChannelName, message: CampaignMessage): string | null {
  const allowed = CAMPAIGN_MESSAGE_TYPES[channel];
  if (allowed.includes(message.type)) return null;
  return channel === 'whatsapp'
    ? 'WhatsApp campaigns must send a template message: outside the 24-hour window after a customer writes, WhatsApp only delivers templates'
    : `${channel} campaigns send ${allowed.join(' or ')} messages`;
}

/** `{{name}}` or `{{name|fallback}}` in a parameter. */
const VARIABLE = /\{\{\s*([a-z_][a-z0-9_.]*)\s*(?:\|([^}]*))?\}\}/gi;

/** The variables a parameter may use: contact fields, contact attributes, CSV columns, the campaign's name. */
const KNOWN = /^(contact\.(name|phone|email|username)|contact\.attributes\.[A-Za-z0-9_]+|csv\.[a-z0-9_]+|campaign\.name)$/;

/** Every unknown variable in these parameters (for a 400 naming them). */
export function unknownVariables(parameters: readonly string[]): { index: number; variable: string }[] {
  const unknown: { index: number; variable: string }[] = [];
  parameters.forEach((p, index) => {
    for (const m of p.matchAll(VARIABLE)) if (!KNOWN.test(m[1] as string)) unknown.push({ index, variable: m[1] as string });
  });
  return unknown;
}

/** What a recipient's parameters are filled from. */
export interface ParameterValues {
  contact: Pick<Contact, 'name' | 'phone' | 'email' | 'username' | 'attributes'> | null;
  /** The recipient's CSV columns, keyed by lower-cased header. */
  csv: Record<string, string>;
  campaignName: string;
}

function valueOf(variable: string, v: ParameterValues): string {
  if (variable === 'campaign.name') return v.campaignName;
  if (variable.startsWith('csv.')) return v.csv[variable.slice(4)] ?? '';
  if (variable.startsWith('contact.attributes.')) {
    const attr = v.contact?.attributes?.[variable.slice('contact.attributes.'.length)];
    return typeof attr === 'string' || typeof attr === 'number' || typeof attr === 'boolean' ? String(attr) : '';
  }
  const field = variable.slice('contact.'.length) as 'name' | 'phone' | 'email' | 'username';
  return v.contact?.[field] ?? '';
}

/**
 * A template's body parameters for one recipient, or the first one that came out empty (WhatsApp
 * refuses empty parameters, so such a recipient fails with that reason instead of being sent).
 */
export function renderParameters(parameters: readonly string[], v: ParameterValues): { ok: true; values: string[] } | { ok: false; index: number } {
  const values: string[] = [];
  for (const [index, p] of parameters.entries()) {
    const text = p.replace(VARIABLE, (_, name: string, fallback?: string) => valueOf(name, v) || (fallback ?? '')).trim();
    if (!text) return { ok: false, index };
    values.push(text);
  }
  return { ok: true, values };
}

/** The WhatsApp template components for rendered body parameters. */
export const templateComponents = (values: string[]): Record<string, unknown>[] =>
  values.length ? [{ type: 'body', parameters: values.map((text) => ({ type: 'text', text })) }] : [];

/** The default calling code for national numbers (Indonesia: 0812… -> +62812…). */
export const DEFAULT_COUNTRY_CODE = '62';

/**
 * A phone number as E.164 digits (without `+`), or why not. Spaces, dashes, dots and brackets
 * are ignored; `+` or `00` starts an international number; a leading `0` is a national number of
 * `countryCode` (0812-3456-7890 -> 6281234567890); other digits are taken as international
 * already (6281234567890, as WhatsApp's wa_id). E.164 allows at most 15 digits; we require at
 * least 8, and for Indonesia (62) a national part of 8-12 digits.
 */
export function normalizePhone(raw: string, countryCode = DEFAULT_COUNTRY_CODE): { ok: true; digits: string } | { ok: false; reason: string } {
  const compact = raw.trim().replace(/[\s\-.()]/g, '');
  if (!compact) return { ok: false, reason: 'is empty' };
  let digits: string;
  if (compact.startsWith('+')) digits = compact.slice(1);
  else if (compact.startsWith('00')) digits = compact.slice(2);
  else if (compact.startsWith('0')) digits = countryCode + compact.slice(1);
  else digits = compact;
  if (!/^\d+$/.test(digits)) return { ok: false, reason: 'may only contain digits, spaces, dashes, dots, brackets and a leading +' };
  if (digits.startsWith('0')) return { ok: false, reason: 'has no country code after + or 00' };
  if (digits.length < 8 || digits.length > 15) return { ok: false, reason: `has ${digits.length} digits; E.164 numbers have 8 to 15 with the country code` };
  if (digits.startsWith('62') && (digits.length < 10 || digits.length > 14)) return { ok: false, reason: 'is not an Indonesian number: after 62 come 8 to 12 digits' };
  return { ok: true, digits };
}
