/** Conversations: the shared inbox, and what agents do to a conversation. */
import { acting } from '../../services/agents.js';
import { ConversationViewBody, presentConversationView } from '../../presenters/conversation-view.js';
import { presentPage } from '../../presenters/page.js';
import { bulkUpdateConversations, expireStaleConversations, type BulkChange } from '../../services/conversation-bulk.js';
import {
  assignConversation,
  changeConversationTags,
  getConversation,
  listConversations,
  markConversationRead,
  setConversationStatus,
  takeOverConversation,
  type ConversationView,
} from '../../services/conversations.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams } from '../schemas/common.js';
import {
  AssignBody,
  BulkBody,
  BulkResultBody,
  ConversationPage,
  ExpireBody,
  ExpireResult,
  ListConversationsQuery,
  ReadBody,
  StatusBody,
  TagsBody,
  TakeoverBody,
  TakeoverResult,
} from './conversations.schema.js';

const present = (v: ConversationView) => presentConversationView(v.conversation, v.contact);

const NOT_VISIBLE =
  'Another organization’s conversation, or one the caller may not see (without conversations.view_all: only their own, their divisions’ and those in no division), answers 404.';

/** The Conversations group. */
export const conversationRoutes: RouteGroup = {
  group: 'Conversations',
  routes: [
    route({
      method: 'get',
      path: '/api/conversations',
      summary: 'List conversations',
      description:
        'The conversations the caller may see, newest activity first (`last_message_at`, then id), each with a summary of its contact. Filters combine: `status` (one or several, comma-separated), `assignee_id` (an id, `me` or `unassigned`), `division_id` (an id or `none`), `contact_id`, `channel`, `tag`, `unread`.',
      access: 'conversations.view',
      query: ListConversationsQuery,
      response: ConversationPage,
      handler: async ({ query, principal }) =>
        presentPage(
          await listConversations({
            ...acting(principal),
            statuses: query.status,
            assignee: query.assignee_id,
            division: query.division_id,
            contactId: query.contact_id,
            channel: query.channel,
            tag: query.tag,
            unread: query.unread,
            page: query.page,
            limit: query.limit,
          }),
          present,
        ),
    }),
    route({
      method: 'post',
      path: '/api/conversations/expire',
      summary: 'Expire stale conversations',
      description:
        'Expires the open and pending conversations the caller may see whose customer has not written for `older_than_hours` (default 24), oldest first, at most 500 per call (`has_more` says when to call again). Expiring is final and frees the contact, so their next message starts a new conversation. Each emits conversation.updated.',
      access: 'conversations.manage',
      body: ExpireBody,
      response: ExpireResult,
      audit: { action: 'conversation.expired', resource: 'conversation', target: () => null },
      handler: async ({ body, principal }) => {
        const { expired, hasMore } = await expireStaleConversations({ ...acting(principal), olderThanHours: body.older_than_hours });
        return { expired, count: expired.length, has_more: hasMore };
      },
    }),
    route({
      method: 'post',
      path: '/api/conversations/bulk',
      summary: 'Bulk conversation actions',
      description:
        'Applies one action (`assign` with `agent_id`, `unassign`, `status` with `status`, `add_tags`/`remove_tags` with `tags`) to up to 100 distinct conversations, each on its own, and answers one result per id in the given order. A conversation of another organization or hidden from the caller is `ok: false` with status 404; one whose state forbids the change, 422. `assign` and `unassign` also require conversations.assign (403 for the whole call); an invalid `agent_id` is a 400 for the whole call.',
      access: 'conversations.manage',
      body: BulkBody,
      response: BulkResultBody,
      audit: { action: 'conversation.bulk_updated', resource: 'conversation', target: () => null },
      handler: async ({ body, principal }) => {
        const change: BulkChange =
          body.action === 'assign'
            ? { action: 'assign', agentId: body.agent_id }
            : body.action === 'status'
              ? { action: 'status', status: body.status }
              : body.action === 'unassign'
                ? { action: 'unassign' }
                : { action: body.action, tags: body.tags };
        const results = await bulkUpdateConversations({ ...acting(principal), ids: body.ids, change });
        const succeeded = results.filter((r) => r.ok).length;
        return { results, succeeded, failed: results.length - succeeded };
      },
    }),
    route({
      method: 'get',
      path: '/api/conversations/{id}',
      summary: 'Get a single conversation',
      description: `With a summary of its contact. ${NOT_VISIBLE}`,
      access: 'conversations.view',
      params: IdParams,
      response: ConversationViewBody,
      handler: async ({ params, principal }) => present(await getConversation({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'patch',
      path: '/api/conversations/{id}/assign',
      summary: 'Assign or unassign an agent',
      description: `\`agent_id\` null unassigns. The agent must be an active agent of the organization whose role can see conversations (400 otherwise); manual assignment may exceed the agent's auto-assignment limit. A closed or expired conversation cannot be (un)assigned (422); assigning the current assignee changes nothing. Emits conversation.assigned (with \`previous_assignee_id\` and \`assigned_by\`) to the conversation's audience and to the previous assignee. ${NOT_VISIBLE}`,
      access: 'conversations.assign',
      params: IdParams,
      body: AssignBody,
      response: ConversationViewBody,
      errors: { 422: 'A closed or expired conversation cannot be assigned' },
      audit: { action: 'conversation.assigned', resource: 'conversation' },
      handler: async ({ params, body, principal }) => present(await assignConversation({ ...acting(principal), id: params.id, agentId: body.agent_id })),
    }),
    route({
      method: 'patch',
      path: '/api/conversations/{id}/status',
      summary: 'Update conversation status',
      description: `Allowed: open ↔ pending; open or pending → resolved; resolved → open; open, pending or resolved → closed. Closed and expired are final. Any other change is a 422 naming the allowed ones; the current status again changes nothing (200). Closing sets \`closed_at\` and frees the contact, so their next message starts a new conversation (a resolved one is reopened by the customer's next message instead). \`reason\` is kept in the activity log. Emits conversation.updated. ${NOT_VISIBLE}`,
      access: 'conversations.manage',
      params: IdParams,
      body: StatusBody,
      response: ConversationViewBody,
      errors: { 422: 'The status change is not allowed from the current status (the message lists the allowed ones)' },
      audit: { action: 'conversation.status_changed', resource: 'conversation' },
      handler: async ({ params, body, principal }) => present(await setConversationStatus({ ...acting(principal), id: params.id, status: body.status })),
    }),
    route({
      method: 'post',
      path: '/api/conversations/{id}/read',
      summary: 'Mark conversation as read',
      description: `Sets the caller's entry in \`read_markers\` to now. The unread count belongs to the assignee: it resets when the assignee reads, or when anyone reads an unassigned conversation; a supervisor reading someone else's conversation leaves it unread for them. Emits conversation.updated. ${NOT_VISIBLE}`,
      access: 'conversations.view',
      params: IdParams,
      body: ReadBody,
      response: ConversationViewBody,
      audit: 'none',
      handler: async ({ params, principal }) => present(await markConversationRead({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'patch',
      path: '/api/conversations/{id}/tags',
      summary: 'Update conversation tags',
      description: `Either \`tags\` (replaces the list) or \`add\` and/or \`remove\` (edit the current list; concurrent edits are all kept). Tags are trimmed and lower-cased, 1-50 characters without commas; a conversation holds at most 30 (422 when an edit would exceed it). Closed conversations can still be tagged. Emits conversation.updated when the list changes. ${NOT_VISIBLE}`,
      access: 'conversations.manage',
      params: IdParams,
      body: TagsBody,
      response: ConversationViewBody,
      errors: { 422: 'The change would leave more tags than a conversation holds' },
      audit: { action: 'conversation.tags_updated', resource: 'conversation' },
      handler: async ({ params, body, principal }) =>
        present(await changeConversationTags({ ...acting(principal), id: params.id, set: body.tags, add: body.add, remove: body.remove })),
    }),
    route({
      method: 'post',
      path: '/api/conversations/{id}/takeover',
      summary: 'Takeover a conversation',
      description: `The caller becomes the assignee, whoever holds it now; the answer and the conversation.takeover event (sent to the conversation's audience and to the previous assignee) name the previous assignee and the reason. Taking over one's own conversation changes nothing. A closed or expired conversation cannot be taken over (422). ${NOT_VISIBLE}`,
      access: 'conversations.takeover',
      params: IdParams,
      body: TakeoverBody,
      response: TakeoverResult,
      errors: { 422: 'A closed or expired conversation cannot be taken over' },
      audit: { action: 'conversation.taken_over', resource: 'conversation' },
      handler: async ({ params, body, principal }) => {
        const result = await takeOverConversation({ ...acting(principal), id: params.id, reason: body.reason ?? null });
        return { ...present(result), previous_assignee_id: result.previousAssigneeId };
      },
    }),
  ],
};
