/** Contacts: the customers behind channel identities, with their conversations. */
import { ContactBody, presentContact } from '../../presenters/contact.js';
import { presentConversation } from '../../presenters/conversation.js';
import { presentPage } from '../../presenters/page.js';
import { getContact, listContactConversations, listContacts, updateContact } from '../../services/contacts.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { ContactConversationPage, ContactConversationsQuery, ContactPage, ListContactsQuery, UpdateContactBody } from './contacts.schema.js';

/** The Contacts group. */
export const contactRoutes: RouteGroup = {
  group: 'Contacts',
  routes: [
    route({
      method: 'get',
      path: '/api/contacts',
      summary: 'List contacts',
      description: 'Newest first. `q` matches part of the name, phone, e-mail or username (any case, taken literally).',
      access: 'contacts.view',
      query: ListContactsQuery,
      response: ContactPage,
      handler: async ({ query, principal }) =>
        presentPage(
          await listContacts({ tenantId: principal.tenantId, q: query.q, channel: query.channel, tag: query.tag, page: query.page, limit: query.limit }),
          presentContact,
        ),
    }),
    route({
      method: 'get',
      path: '/api/contacts/{id}',
      summary: 'Get a contact by ID',
      access: 'contacts.view',
      params: IdParams,
      response: ContactBody,
      handler: async ({ params, principal }) => presentContact(await getContact(principal.tenantId, params.id)),
    }),
    route({
      method: 'patch',
      path: '/api/contacts/{id}',
      summary: 'Update a contact',
      description:
        'Sets only the fields sent (null clears name, e-mail or phone); `tags` and `attributes` replace the whole list or object. Concurrent edits of different fields all stay; for one field the last write wins. Emits `contact.updated`.',
      access: 'contacts.manage',
      params: IdParams,
      body: UpdateContactBody,
      response: ContactBody,
      audit: { action: 'contact.updated', resource: 'contact' },
      // The contact's actor answers it already presented (actor replies are JSON).
      handler: async ({ params, body, principal }) =>
        updateContact({
          tenantId: principal.tenantId,
          principal,
          id: params.id,
          name: body.name,
          email: body.email,
          phone: body.phone,
          attributes: body.attributes,
          tags: body.tags,
        }),
    }),
    route({
      method: 'get',
      path: '/api/contacts/{id}/conversations',
      summary: 'List conversations for a contact',
      description: 'Newest first; only the conversations the caller may see (all with `conversations.view_all`, otherwise their own, their divisions’ and unrouted ones).',
      access: 'contacts.view',
      params: IdParams,
      query: ContactConversationsQuery,
      response: ContactConversationPage,
      handler: async ({ params, query, principal }) =>
        presentPage(
          await listContactConversations({
            tenantId: principal.tenantId,
            principal,
            contactId: params.id,
            status: query.status,
            page: query.page,
            limit: query.limit,
          }),
          presentConversation,
        ),
    }),
  ],
};
