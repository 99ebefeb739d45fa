/**
 * What rule conditions see for a queue item: the conversation and contact as stored now, the
 * message the event carries, the tenant's zone and working hours (services/working-hours.ts,
 * the division's override when the conversation has one), and the event's own payload.
 */
import { DateTime } from 'luxon';
import type { AutomationEvent } from '../models/automation-event.js';
import { contacts, type Contact } from '../models/contact.js';
import { conversations, type Conversation } from '../models/conversation.js';
import { findTenant } from '../models/tenant.js';
import type { EvaluationContext } from './automation-conditions.js';
import { checkWorkingHours } from './working-hours.js';

/** The conversation id an event concerns, read from its data; null when none. */
export function conversationIdOf(eventType: string, data: Record<string, unknown>): string | null {
  if (typeof data.conversation_id === 'string') return data.conversation_id;
  const nested = data.conversation as { id?: unknown } | undefined;
  if (nested && typeof nested.id === 'string') return nested.id;
  if (eventType.startsWith('conversation.') && typeof data.id === 'string') return data.id;
  return null;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

function conversationFields(c: Conversation, eventType: string, withinHours: boolean | null, now: Date): Record<string, unknown> {
  return {
    id: c._id,
    status: c.status,
    channel: c.channel,
    division_id: c.division_id,
    assignee_id: c.assignee_id,
    tags: c.tags,
    message_count: c.message_count,
    unread_count: c.unread_count,
    created_at: iso(c.created_at),
    is_new: eventType === 'conversation.created',
    within_working_hours: withinHours,
    minutes_since_last_customer_message: c.last_inbound_at ? Math.floor((now.getTime() - new Date(c.last_inbound_at).getTime()) / 60_000) : null,
  };
}

const contactFields = (c: Contact): Record<string, unknown> => ({ id: c._id, name: c.name, phone: c.phone, email: c.email, tags: c.tags, attributes: c.attributes ?? {} });

/** The tenant part of a context (zone, local time, working hours now). */
export async function tenantFields(tenantId: string, now: Date): Promise<Record<string, unknown>> {
  const tenant = await findTenant(tenantId);
  const zone = tenant?.timezone ?? 'UTC';
  const hours = await checkWorkingHours({ principal: null, tenant: tenantId, now }).catch(() => null);
  const local = DateTime.fromJSDate(now, { zone });
  return { id: tenantId, timezone: zone, within_working_hours: hours ? hours.isOpen : null, local_time: local.toFormat('HH:mm'), weekday: local.weekday };
}

/** The context of an item, with the conversation as stored now (null when the event has none); `tenant` may come from the worker's pass. */
export async function buildItemContext(
  item: AutomationEvent,
  now = new Date(),
  tenantPart: Promise<Record<string, unknown>> = tenantFields(item.tenant_id, now),
): Promise<{ ctx: EvaluationContext; conversation: Conversation | null }> {
  const conversation = item.conversation_id ? await conversations.findOwnedOrNull(item.tenant_id, item.conversation_id) : null;
  const [contact, tenant, divisionHours] = await Promise.all([
    conversation ? contacts.findOwnedOrNull(item.tenant_id, conversation.contact_id) : Promise.resolve(null),
    tenantPart,
    conversation?.division_id ? checkWorkingHours({ principal: null, tenant: item.tenant_id, divisionId: conversation.division_id, now }).catch(() => null) : Promise.resolve(null),
  ]);
  const withinHours = divisionHours ? divisionHours.isOpen : (tenant.within_working_hours as boolean | null);
  const message = item.event_type.startsWith('message.') ? item.payload : null;
  return {
    conversation,
    ctx: {
      event: { type: item.event_type, seq: item.event_seq, payload: item.payload },
      conversation: conversation ? conversationFields(conversation, item.event_type, withinHours, now) : null,
      contact: contact ? contactFields(contact) : null,
      message,
      tenant,
    },
  };
}

/** A dry run's context from a payload given as is: `{ conversation, contact, message, tenant, event }` parts, each optional. */
export async function contextFromPayload(tenantId: string, eventType: string, payload: Record<string, unknown>, now = new Date()): Promise<EvaluationContext> {
  const part = (k: string) => (payload[k] && typeof payload[k] === 'object' ? (payload[k] as Record<string, unknown>) : null);
  return {
    event: { type: eventType, payload },
    conversation: part('conversation'),
    contact: part('contact'),
    message: part('message'),
    tenant: { ...(await tenantFields(tenantId, now)), ...(part('tenant') ?? {}) },
  };
}
