/** The contact resource, shared by HTTP, Socket.IO (`contact.updated`) and outgoing webhooks. */
import { z } from 'zod';
import type { Contact } from '../models/contact.js';
import { iso } from './page.js';

/** The contact JSON shape. */
export const ContactBody = z.object({
  id: z.uuid(),
  channel: z.string(),
  external_id: z.string().describe('The identity the provider used first (wa_id, PSID, IGSID, e-mail address)'),
  identities: z.array(z.string()).describe('Every identity the contact is known by on its channel'),
  name: z.string().nullable(),
  phone: z.string().nullable().describe('E.164 digits without "+"'),
  email: z.string().nullable(),
  username: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()),
  last_inbound_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** A contact as it leaves the process. */
export type ContactJson = z.infer<typeof ContactBody>;

/** Shapes a contact. */
export function presentContact(c: Contact): ContactJson {
  return {
    id: c._id,
    channel: c.channel,
    external_id: c.external_id,
    identities: c.identities,
    name: c.name,
    phone: c.phone,
    email: c.email,
    username: c.username,
    attributes: c.attributes,
    tags: c.tags,
    last_inbound_at: iso(c.last_inbound_at),
    created_at: iso(c.created_at) as string,
    updated_at: iso(c.updated_at) as string,
  };
}
