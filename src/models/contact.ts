/**
 * Contacts: one per channel identity of a customer. A contact's `_id` is
 * naturalId('contact', tenant, channel, first identity), and every identity it is known by
 * (wa_id/phone, WhatsApp business-scoped id, PSID, IGSID, e-mail) is claimed in
 * `contact_identities` by `_id`, so concurrent webhooks for a new customer create one contact,
 * and a phone that arrives after a business-scoped id joins the same contact.
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { findDocById, insertDocs } from './driver.js';
import { tenantRepo } from './repo.js';
import { searchedAsRead, searchTextOf, touchesSearched, withSearchText, type Searchable } from './search-text.js';

/** A stored contact. */
export interface Contact extends TenantDoc, Searchable {
  channel: ChannelName;
  /** The identity the provider used first. */
  external_id: string;
  /** Every identity this contact is known by on its channel. */
  identities: string[];
  name: string | null;
  phone: string | null;
  email: string | null;
  username: string | null;
  /** Free-form attributes agents keep (company, order number...). */
  attributes: Record<string, unknown>;
  tags: string[];
  /** When the customer last wrote; WhatsApp's 24-hour window runs from here. */
  last_inbound_at: Date | null;
}

const schema = baseSchema<Contact>(
  {
    tenant_id: { type: String, required: true },
    channel: { type: String, required: true },
    external_id: { type: String, required: true },
    identities: { type: [String], default: [] },
    name: { type: String, default: null },
    phone: { type: String, default: null },
    email: { type: String, default: null },
    username: { type: String, default: null },
    attributes: { type: Schema.Types.Mixed, default: {} },
    tags: { type: [String], default: [] },
    last_inbound_at: { type: Date, default: null },
    search_text: { type: String },
  },
  'contacts',
);
// Serves the contact list (newest first) and its filters.
schema.index({ tenant_id: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, channel: 1, phone: 1 });

/** The contacts collection. */
export const ContactModel = model<Contact>('Contact', schema);

/** The fields the contact list's `q` searches (in `search_text`). */
export const CONTACT_SEARCHED = ['name', 'phone', 'email', 'username'] as const satisfies readonly (keyof Contact)[];

/** Tenant-scoped access to contacts; `search_text` follows the searched fields. */
export const contacts = withSearchText(tenantRepo(ContactModel, 'Contact'), ContactModel, CONTACT_SEARCHED);

/** Up to `limit` contacts matching a tenant-scoped filter, with only what addressing them needs (campaign recipients by filter). */
export const contactAddressesMatching = (filter: { tenant_id: string } & Record<string, unknown>, limit: number) =>
  ContactModel.find(filter).select({ _id: 1, channel: 1, phone: 1, external_id: 1 }).limit(limit).lean<Pick<Contact, '_id' | 'channel' | 'phone' | 'external_id'>[]>().exec();


/** One identity claimed by one contact: `_id` = naturalId('contact-identity', tenant, channel, identity). */
export interface ContactIdentity {
  _id: string;
  tenant_id: string;
  contact_id: string;
}

const identitySchema = new Schema<ContactIdentity>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    contact_id: { type: String, required: true },
  },
  { collection: 'contact_identities', versionKey: false },
);

/** The contact_identities collection. */
export const ContactIdentityModel = model<ContactIdentity>('ContactIdentity', identitySchema);

/** The `_id` of the claim of one channel identity. */
export const identityId = (tenantId: string, channel: ChannelName, identity: string) => naturalId('contact-identity', tenantId, channel, identity);

/** The contact each of these identities is claimed by (null where none), in order. */
export async function contactsOfIdentities(tenantId: string, channel: ChannelName, identities: string[]): Promise<(string | null)[]> {
  const ids = identities.map((i) => identityId(tenantId, channel, i));
  const claims = await Promise.all(ids.map((id) => findDocById<ContactIdentity>(ContactIdentityModel as never, id)));
  return claims.map((c) => (c && c.tenant_id === tenantId ? c.contact_id : null));
}

/** The contact claiming this identity, or null. */
export async function contactOfIdentity(tenantId: string, channel: ChannelName, identity: string): Promise<string | null> {
  const [contactId] = await contactsOfIdentities(tenantId, channel, [identity]);
  return contactId ?? null;
}

/** Claims identities for a contact; one already claimed (by it or a racing webhook's contact) is left as it is. */
export async function claimIdentities(tenantId: string, channel: ChannelName, contactId: string, identities: string[]): Promise<void> {
  if (identities.length === 0) return;
  const docs = identities.map((i) => ({ _id: identityId(tenantId, channel, i), tenant_id: tenantId, contact_id: contactId }));
  try {
    await insertDocs(ContactIdentityModel, docs, false);
  } catch (err) {
    const errors = (err as { writeErrors?: { code?: number }[] }).writeErrors;
    if (!isDuplicateKey(err) && !(errors?.length && errors.every((e) => e.code === 11000))) throw err;
  }
}

/** The empty profile fields of `contact` that `offered` would fill (what an agent typed wins). */
export type ProfileFill = Partial<Pick<Contact, 'name' | 'phone' | 'email' | 'username'>>;

const emptyOnly = (contact: Contact, offered: ProfileFill): ProfileFill =>
  Object.fromEntries(Object.entries(offered).filter(([field, value]) => value && !contact[field as keyof ProfileFill])) as ProfileFill;

// A compare-and-set that keeps losing means agents keep editing this contact.
const MAX_FILL_ATTEMPTS = 5;

/**
 * Fills the contact's empty profile fields from `offered`, adds identities it was not yet known
 * by, and moves its last customer message time forward to `wroteAt` (never back: messages arrive
 * out of order). The fill is compare-and-set on the searched fields as `contact` has them, so it
 * never overwrites an agent's edit made since the read and `search_text` follows both; on a
 * miss the contact is read again and only what is still empty is filled. Answers the fill applied.
 */
export async function enrichContact(contact: Contact, offered: ProfileFill, newIdentities: string[], wroteAt: Date | null): Promise<ProfileFill> {
  const always = {
    ...(newIdentities.length ? { $addToSet: { identities: { $each: newIdentities } } } : {}),
    ...(wroteAt ? { $max: { last_inbound_at: wroteAt } } : {}),
  };
  let current: Contact | null = contact;
  for (let attempt = 0; current && attempt < MAX_FILL_ATTEMPTS; attempt++) {
    const fill = emptyOnly(current, offered);
    if (!touchesSearched(fill, CONTACT_SEARCHED)) break;
    const search_text = searchTextOf<Contact>({ ...current, ...fill }, CONTACT_SEARCHED);
    const res = await ContactModel.updateOne({ _id: contact._id, ...searchedAsRead(current, CONTACT_SEARCHED) }, { $set: { ...fill, search_text }, ...always }).exec();
    if (res.matchedCount === 1) return fill;
    current = await ContactModel.findById(contact._id).lean<Contact>().exec();
  }
  if (Object.keys(always).length) await ContactModel.updateOne({ _id: contact._id }, always).exec();
  return {};
}
