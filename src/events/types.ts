import type { Permission } from '../auth/permissions.js';

/**
 * Every domain event name, grouped by aggregate. They double as Socket.IO event names and
 * outgoing-webhook event types; string literals for event names appear nowhere else.
 */
export const EVENTS = {
  messageCreated: 'message.created',
  messageUpdated: 'message.updated',
  conversationCreated: 'conversation.created',
  conversationUpdated: 'conversation.updated',
  conversationAssigned: 'conversation.assigned',
  conversationTransferred: 'conversation.transferred',
  conversationTakeover: 'conversation.takeover',
  noteCreated: 'note.created',
  noteUpdated: 'note.updated',
  noteDeleted: 'note.deleted',
  contactUpdated: 'contact.updated',
  agentStatusChanged: 'agent.status_changed',
  slaBreached: 'sla.breached',
  csatSubmitted: 'csat.submitted',
  scheduledMessageSent: 'scheduled_message.sent',
  scheduledMessageFailed: 'scheduled_message.failed',
  scheduledMessageCancelled: 'scheduled_message.cancelled',
  templateStatusChanged: 'template.status_changed',
} as const;

/** A domain event name. */
export type EventType = (typeof EVENTS)[keyof typeof EVENTS];

/**
 * Who may receive an event. Tenant-wide events go to every signed-in member, or only to holders
 * of `permission`, the others receiving `reduced` instead when it is given; conversation events
 * only to those who may see that conversation (ARCHITECTURE: agents without
 * conversations.view_all see their own and their divisions' conversations).
 */
export type Audience =
  | {
      scope: 'tenant';
      /**
       * What a member must hold to receive `data` (contact data needs contacts.view); null when
       * every member may. Required, so each tenant-wide event decides it (events stored before
       * it was required lack it and read as null).
       */
      permission: Permission | null;
      /** What members without `permission` receive instead (an agent's presence without the e-mail); absent, they receive nothing. */
      reduced?: unknown;
    }
  | {
      scope: 'conversation';
      conversationId: string;
      divisionId: string | null;
      assigneeId: string | null;
      /**
       * Agents who also receive this one event though the conversation may not be theirs: the
       * previous assignee and the transferring agent of a transfer, the agents a note mentions.
       * They still need conversations.view; this widens one event, never the conversation.
       */
      alsoAgentIds?: string[];
      /** Divisions whose members also receive this one event (a transfer's previous division). */
      alsoDivisionIds?: string[];
    };

/**
 * An event before the tenant actor gives it a seq. Its `id` derives from the change that causes
 * it (the conversation version it wrote, the message it stored), so the same change appended
 * twice is stored once.
 */
export interface EventDraft {
  id: string;
  event: EventType;
  data: unknown;
  audience: Audience;
}

/** An event as stored and delivered: `{ event, seq, tenant_id, data }` plus its id and audience. */
export interface DomainEvent {
  id: string;
  event: EventType;
  seq: number;
  tenant_id: string;
  data: unknown;
  created_at: string;
  audience: Audience;
}

/** Realtime-only notices that carry no seq and are not stored. */
export const NOTICES = {
  syncRequired: 'sync.required',
  replayDone: 'sync.done',
  typing: 'typing',
  /** `{ reason }` just before the server closes a socket whose credential no longer authenticates. */
  sessionEnded: 'session.ended',
} as const;
