/**
 * Finds or creates the contact behind a channel identity. Each identity (wa_id/phone, WhatsApp
 * business-scoped id, PSID, IGSID, e-mail) is claimed by `_id` in contact_identities, so two
 * webhooks racing for a new customer create one contact, and a phone that arrives after a
 * business-scoped id (or the other way round) joins the contact that already exists.
 */
import type { ChannelName, InboundSender } from '../../channels/types.js';
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { claimIdentities, contacts, contactsOfIdentities, enrichContact, type Contact } from '../models/contact.js';

/** Every identity a sender is known by, most specific first. */
function identitiesOf(sender: InboundSender): string[] {
  return [...new Set([sender.externalId, sender.phone, sender.bsuid, sender.email?.toLowerCase()].filter((v): v is string => Boolean(v)))];
}

/** The contact for this sender, created on first contact; profile fields are refreshed. */
export async function resolveContact(tenantId: string, channel: ChannelName, sender: InboundSender): Promise<Contact> {
  const identities = identitiesOf(sender);
  const claims = await contactsOfIdentities(tenantId, channel, identities);
  const known = claims.find((c): c is string => c !== null);
  const contactId = known ?? naturalId('contact', tenantId, channel, identities[0] ?? sender.externalId);

  let contact = await contacts.findOwnedOrNull(tenantId, contactId);
  if (!contact) contact = await createContact(tenantId, channel, contactId, sender, identities);

  // Claim the identities this contact is not yet known by (a phone arriving after a BSUID).
  await claimIdentities(tenantId, channel, contact._id, identities.filter((_, i) => !claims[i]));
  // Only empty fields are filled: what an agent typed into the contact wins over a profile name.
  const set: Partial<Contact> = {};
  if (sender.name && !contact.name) set.name = sender.name;
  if (sender.phone && !contact.phone) set.phone = sender.phone;
  if (sender.username && !contact.username) set.username = sender.username;
  if (sender.email && !contact.email) set.email = sender.email.toLowerCase();
  const newIdentities = identities.filter((i) => !contact.identities.includes(i));
  if (Object.keys(set).length === 0 && newIdentities.length === 0) return contact;
  await enrichContact(contact._id, set, newIdentities);
  return { ...contact, ...set, identities: [...contact.identities, ...newIdentities] };
}

async function createContact(tenantId: string, channel: ChannelName, id: string, sender: InboundSender, identities: string[]): Promise<Contact> {
  try {
    return await contacts.insert({
      _id: id,
      tenant_id: tenantId,
      channel,
      external_id: sender.externalId,
      identities,
      name: sender.name ?? null,
      phone: sender.phone ?? null,
      email: sender.email?.toLowerCase() ?? null,
      username: sender.username ?? null,
      attributes: {},
      tags: [],
      last_inbound_at: null,
    });
  } catch (err) {
    // Another webhook for the same new customer created it first.
    if (!isDuplicateKey(err)) throw err;
    return contacts.findOwned(tenantId, id);
  }
}
