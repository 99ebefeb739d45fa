/**
 * Contacts: one per channel identity of a customer. A contact's `_id` is
 * naturalId('contact', tenant, channel, first identity), and every identity it is known by
 * (wa_id/phone, WhatsApp business-scoped id, PSID, IGSID, e-mail) is claimed in
 * `contact_identities` by `_id`, so concurrent webhooks for a new customer create one contact,
 * and a phone that arrives after a business-scoped id joins the same contact.
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { baseSchema, type TenantDoc } from './base.js';
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
