/**
 * A draft campaign's recipients: added by contact ids, by a contact filter (tags, channel), or
 * from a CSV of phone numbers (WhatsApp campaigns), each row checked on its own and reported by
 * row number with its reason. Every recipient's `_id` derives from the campaign and its address,
 * so an address added twice, by any route, is one recipient (the duplicate insert is refused by
 * the database and counted as `duplicates`).
 */
import { CsvError, parse } from 'csv-parse/sync';
import type { ChannelName } from '../../channels/types.js';
import { BodyFieldError, StateError } from '../errors.js';
import { campaignRecipients, insertRecipientsPastDuplicates, campaigns, recipientId, type Campaign, type CampaignRecipient, type RecipientSource, type RecipientStatus } from '../models/campaign.js';
import { contactAddressesMatching, contacts, type Contact } from '../models/contact.js';
import type { Page } from '../models/repo.js';
import type { Acting } from './agents.js';
import { normalizePhone } from './campaign-rules.js';
import { notDraft } from './campaigns.js';

/** Most recipients one campaign may have. */
export const MAX_RECIPIENTS = 100_000;

/** Most CSV rows (or contact ids) taken in one request. */
export const MAX_ROWS_PER_REQUEST = 50_000;

/** One CSV row that was not added, and why. */
export interface RejectedRow {
  /** The row's number in the file, the header being row 1. */
  row: number;
  value: string;
  reason: string;
}

/** What one add did. */
export interface AddReport {
  added: number;
  /** Addresses the campaign already had (or that were repeated in this request). */
  duplicates: number;
  rejected: RejectedRow[];
  total: number;
}

/** Add recipients to a draft campaign: exactly one of the three sources. */
export interface AddRecipients extends Acting {
  id: string;
  contactIds?: string[] | undefined;
  filter?: { tags: string[]; match: 'any' | 'all'; channel?: ChannelName | undefined } | undefined;
  csv?: { text: string; defaultCountryCode: string } | undefined;
}

/** The address a contact is reached at on its channel (WhatsApp: its phone as E.164, +628…). */
export const contactAddress = (c: Pick<Contact, 'channel' | 'phone' | 'external_id'>): string => {
  if (c.channel !== 'whatsapp') return c.external_id;
  const id = c.phone ?? c.external_id;
  return /^\d+$/.test(id) ? `+${id}` : id;
};

type NewRecipient = Omit<CampaignRecipient, 'created_at' | 'updated_at'>;

const recipient = (c: Campaign, address: string, source: RecipientSource, contactId: string | null, variables: Record<string, string>): NewRecipient => ({
  _id: recipientId(c.tenant_id, c._id, address),
  tenant_id: c.tenant_id,
  campaign_id: c._id,
  address,
  contact_id: contactId,
  source,
  variables,
  status: 'pending',
  error: null,
  message_id: null,
  external_id: null,
  claimed_at: null,
  sent_at: null,
  delivered_at: null,
  read_at: null,
  failed_at: null,
});

/** Parses the CSV text into rows keyed by lower-cased header (the `phone` column required). */
function csvRows(text: string): { row: number; cells: Record<string, string> }[] {
  const clean = text.replace(/^\uFEFF/, '');
  const headerLine = clean.split(/\r\n|\n|\r/, 1)[0] ?? '';
  const delimiter = headerLine.includes(';') && !headerLine.includes(',') ? ';' : ',';
  let records: string[][];
  try {
    records = parse(clean, { delimiter, skip_empty_lines: true, relax_column_count: true }) as string[][];
  } catch (err) {
    if (err instanceof CsvError) throw BodyFieldError('csv', `cannot be read as CSV: ${err.message}`);
    throw err;
  }
  const [header, ...rows] = records;
  const names = (header ?? []).map((h) => h.trim().toLowerCase().replace(/[^a-z0-9_]+/g, '_'));
  const phoneAt = names.findIndex((n) => n === 'phone' || n === 'phone_number' || n === 'wa_id');
  if (phoneAt < 0) throw BodyFieldError('csv', 'needs a header row with a phone column (phone, phone_number or wa_id); other columns become {{csv.<column>}} variables');
  if (rows.length > MAX_ROWS_PER_REQUEST) throw BodyFieldError('csv', `has ${rows.length} rows; at most ${MAX_ROWS_PER_REQUEST} per request`);
  return rows.map((record, i) => ({
    row: i + 2,
    cells: Object.fromEntries(names.map((n, j) => [n === names[phoneAt] ? 'phone' : n, (record[j] ?? '').trim()])),
  }));
}

/**
 * Adds recipients to a draft. Contact ids must be the organization's contacts on the campaign's
 * channel (400 naming the first that is not); CSV rows that are not valid phone numbers are
 * reported and skipped, the rest added.
 */
export async function addRecipients(cmd: AddRecipients): Promise<AddReport> {
  const c = await campaigns.findOwned(cmd.tenantId, cmd.id);
  if (c.status !== 'draft') throw notDraft(c, 'change their recipients');
  const docs: NewRecipient[] = [];
  const rejected: RejectedRow[] = [];
  if (cmd.contactIds) {
    const found = new Map((await contacts.findMany(cmd.tenantId, cmd.contactIds)).map((k) => [k._id, k]));
    cmd.contactIds.forEach((id, i) => {
      const contact = found.get(id);
      if (!contact) throw BodyFieldError(`contact_ids.${i}`, 'is not a contact of this organization');
      if (contact.channel !== c.channel) throw BodyFieldError(`contact_ids.${i}`, `is a ${contact.channel} contact; this campaign sends on ${c.channel}`);
      docs.push(recipient(c, contactAddress(contact), 'contact', contact._id, {}));
    });
  } else if (cmd.filter) {
    if (cmd.filter.channel && cmd.filter.channel !== c.channel) throw BodyFieldError('filter.channel', `must be the campaign's channel (${c.channel})`);
    const tags = cmd.filter.tags.length ? { tags: cmd.filter.match === 'all' ? { $all: cmd.filter.tags } : { $in: cmd.filter.tags } } : {};
    const matched = await contactAddressesMatching({ tenant_id: cmd.tenantId, channel: c.channel, ...tags }, MAX_RECIPIENTS + 1);
    for (const contact of matched) docs.push(recipient(c, contactAddress(contact), 'filter', contact._id, {}));
  } else if (cmd.csv) {
    if (c.channel !== 'whatsapp') throw StateError(`A CSV of phone numbers adds WhatsApp recipients; this campaign sends on ${c.channel}`);
    for (const { row, cells } of csvRows(cmd.csv.text)) {
      const { phone = '', ...variables } = cells;
      const checked = normalizePhone(phone, cmd.csv.defaultCountryCode);
      if (!checked.ok) rejected.push({ row, value: phone, reason: `phone ${checked.reason}` });
      else docs.push(recipient(c, `+${checked.digits}`, 'csv', null, variables));
    }
  }
  const before = await campaignRecipients.count({ tenant_id: cmd.tenantId, campaign_id: c._id });
  if (before + docs.length > MAX_RECIPIENTS && before + new Set(docs.map((d) => d._id)).size > MAX_RECIPIENTS) {
    throw StateError(`A campaign has at most ${MAX_RECIPIENTS} recipients; it has ${before} and this adds up to ${docs.length}`);
  }
  const added = await insertRecipientsPastDuplicates(docs);
  // A send that started meanwhile counted what was there; the recipients added after it wait.
  const after = await campaigns.findOwned(cmd.tenantId, cmd.id);
  if (after.status !== 'draft') throw notDraft(after, 'change their recipients');
  return { added, duplicates: docs.length - added, rejected, total: before + added };
}

/** Lists a campaign's recipients in the order added. */
export interface ListRecipients extends Acting {
  id: string;
  status?: RecipientStatus | undefined;
  page: number;
  limit: number;
}

/** A page of recipients (a status filter of `pending` includes those being sent right now). */
export async function listRecipients(q: ListRecipients): Promise<Page<CampaignRecipient>> {
  await campaigns.findOwned(q.tenantId, q.id);
  const status = q.status === 'pending' ? { status: { $in: ['pending', 'sending'] } } : q.status ? { status: q.status } : {};
  return campaignRecipients.page({ tenant_id: q.tenantId, campaign_id: q.id, ...status }, { created_at: 1, _id: 1 }, q.page, q.limit);
}

/** Removes every recipient of a draft; answers how many. */
export async function clearRecipients(cmd: Acting & { id: string }): Promise<number> {
  const c = await campaigns.findOwned(cmd.tenantId, cmd.id);
  if (c.status !== 'draft') throw notDraft(c, 'change their recipients');
  return campaignRecipients.removeMany({ tenant_id: cmd.tenantId, campaign_id: cmd.id });
}
