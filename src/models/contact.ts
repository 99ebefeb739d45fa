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

/** A stored contact. */
export interface Contact extends TenantDoc {
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
  },
  'contacts',
);
// Serves the contact list (newest first) and its filters.
schema.index({ tenant_id: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, channel: 1, phone: 1 });

/** The contacts collection. */
export const ContactModel = model<Contact>('Contact', schema);

/** Tenant-scoped access to contacts. */
export const contacts = tenantRepo(ContactModel, 'Contact');


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

/**
 * Fills profile fields, adds identities the contact was not yet known by, and moves its last
 * customer message time forward to `wroteAt` (never back: messages arrive out of order).
 */
export async function enrichContact(contactId: string, set: Partial<Contact>, newIdentities: string[], wroteAt: Date | null): Promise<void> {
  await ContactModel.updateOne(
    { _id: contactId },
    {
      ...(Object.keys(set).length ? { $set: set } : {}),
      ...(newIdentities.length ? { $addToSet: { identities: { $each: newIdentities } } } : {}),
      ...(wroteAt ? { $max: { last_inbound_at: wroteAt } } : {}),
    },
  ).exec();
}
