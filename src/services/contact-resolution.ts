/**
 * Finds or creates the contact behind a channel identity. Each identity (wa_id/phone, WhatsApp
 * business-scoped id, PSID, IGSID, e-mail) is claimed by `_id` in contact_identities, so two
 * webhooks racing for a new customer create one contact, and a phone that arrives after a
 * business-scoped id (or the other way round) joins the contact that already exists.
 */
import type { ChannelName, InboundSender } from '../../channels/types.js';
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { claimIdentities, contacts, contactsOfIdentities, enrichContact, type Contact, type ProfileFill } from '../models/contact.js';

// An identity, once claimed, belongs to its contact for good (contacts are never deleted or
// merged), so this process remembers claims it has seen: a returning customer's message then
// skips the claims read. Bounded by dropping the oldest entries.
const knownClaims = new Map<string, string>();
const MAX_KNOWN_CLAIMS = 50_000;

/** The contact claiming each identity (null where none), from memory where possible. */
async function claimsOf(tenantId: string, channel: ChannelName, identities: string[]): Promise<(string | null)[]> {
  const keys = identities.map((i) => `${tenantId}\u001f${channel}\u001f${i}`);
  const remembered = keys.map((k) => knownClaims.get(k) ?? null);
  if (remembered.every((c) => c !== null)) return remembered;
  const read = await contactsOfIdentities(tenantId, channel, identities);
  read.forEach((contactId, i) => contactId && remember(keys[i] as string, contactId));
  return read;
}

function remember(key: string, contactId: string): void {
  if (knownClaims.size >= MAX_KNOWN_CLAIMS) knownClaims.delete(knownClaims.keys().next().value as string);
  knownClaims.set(key, contactId);
}

// The contact's last customer message time is kept to the minute: the 24-hour window it serves
// does not need more, and a chatty customer's every message would otherwise write the contact.
const LAST_INBOUND_GRANULARITY_MS = 60_000;

/** Every identity a sender is known by, most specific first. */
function identitiesOf(sender: InboundSender): string[] {
  return [...new Set([sender.externalId, sender.phone, sender.bsuid, sender.email?.toLowerCase()].filter((v): v is string => Boolean(v)))];
}

/** The contact behind a sender, and whether this call created it. */
export interface ResolvedContact {
  contact: Contact;
  created: boolean;
}

/**
 * The contact for this sender, created on first contact; profile fields are refreshed, and
 * `wroteAt` (the time of a message the customer wrote, null for the business's own echoes)
 * moves the contact's last customer message time forward, which WhatsApp's 24-hour window
 * runs from.
 */
export async function resolveContact(tenantId: string, channel: ChannelName, sender: InboundSender, wroteAt: Date | null): Promise<ResolvedContact> {
  const identities = identitiesOf(sender);
  const claims = await claimsOf(tenantId, channel, identities);
  const known = claims.find((c): c is string => c !== null);
  const contactId = known ?? naturalId('contact', tenantId, channel, identities[0] ?? sender.externalId);

  // No identity claimed: a new customer, inserted at once (a contact left by a crash before its claims is found by the duplicate).
  const existing = known ? await contacts.findOwnedOrNull(tenantId, contactId) : null;
  const { contact, created } = existing ? { contact: existing, created: false } : await createContact(tenantId, channel, contactId, sender, identities, wroteAt);

  // Claim the identities this contact is not yet known by (a phone arriving after a BSUID).
  await claimIdentities(tenantId, channel, contact._id, identities.filter((_, i) => !claims[i]));
  // Only empty fields are filled: what an agent typed into the contact wins over a profile name.
  const set: ProfileFill = {};
  if (sender.name && !contact.name) set.name = sender.name;
  if (sender.phone && !contact.phone) set.phone = sender.phone;
  if (sender.username && !contact.username) set.username = sender.username;
  if (sender.email && !contact.email) set.email = sender.email.toLowerCase();
  const newIdentities = identities.filter((i) => !contact.identities.includes(i));
  const later =
    wroteAt && (!contact.last_inbound_at || wroteAt.getTime() - contact.last_inbound_at.getTime() >= LAST_INBOUND_GRANULARITY_MS) ? wroteAt : null;
  if (Object.keys(set).length === 0 && newIdentities.length === 0 && !later) return { contact, created };
  const filled = await enrichContact(contact, set, newIdentities, later);
  return {
    contact: { ...contact, ...filled, identities: [...contact.identities, ...newIdentities], ...(later ? { last_inbound_at: later } : {}) },
    created,
  };
}

async function createContact(tenantId: string, channel: ChannelName, id: string, sender: InboundSender, identities: string[], wroteAt: Date | null): Promise<ResolvedContact> {
  try {
    const contact = await contacts.insert({
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
      last_inbound_at: wroteAt,
    });
    return { contact, created: true };
  } catch (err) {
    // Another webhook for the same new customer created it first.
    if (!isDuplicateKey(err)) throw err;
    return { contact: await contacts.findOwned(tenantId, id), created: false };
  }
}
