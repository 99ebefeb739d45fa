/** The API shapes the console reads (src/presenters/*; /api/openapi.json is the reference). */

export interface Tenant {
  id: string;
  name: string;
  slug: string;
  timezone: string;
}

export interface Agent {
  id: string;
  name: string;
  email: string;
  status: string;
  role: { id: string; name: string } | null;
  division_ids?: string[];
  is_active?: boolean;
  max_concurrent_conversations?: number;
}

/** GET /api/auth/me */
export interface Me {
  agent: Agent;
  tenant: Tenant;
  permissions: string[];
}

/** POST /api/auth/login */
export interface LoginAnswer extends Me {
  token: string;
  expires_at: string;
}

export interface ConversationContact {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  channel: string;
}

/** A conversation as events carry it; list answers add `contact`. */
export interface Conversation {
  id: string;
  contact_id: string;
  channel: string;
  division_id: string | null;
  assignee_id: string | null;
  status: string;
  tags: string[];
  message_count: number;
  unread_count: number;
  note_count: number;
  last_message_at: string | null;
  last_inbound_at: string | null;
  last_message_preview: string | null;
  updated_at: string;
  contact?: ConversationContact | null;
}

export interface Message {
  id: string;
  conversation_id: string;
  direction: 'inbound' | 'outbound';
  sender_type: string;
  type: string;
  text: string | null;
  content: Record<string, unknown>;
  status: string;
  sent_at: string;
}

export interface Note {
  id: string;
  conversation_id: string;
  author: { id: string; name: string } | null;
  body: string;
  created_at: string;
}

/** The list envelope. */
export interface Page<T> {
  data: T[];
  pagination: { page: number; limit: number; total: number; total_pages: number };
}

/** A page of a thread. */
export interface MessagePage {
  data: Message[];
  pagination: { has_older: boolean; has_newer: boolean };
}

/** What every realtime event carries (ARCHITECTURE, realtime contract). */
export interface RealtimeEvent<T = unknown> {
  event: string;
  seq: number;
  tenant_id: string;
  data: T;
}

/** GET /api/divisions */
export interface Division {
  id: string;
  name: string;
  is_active: boolean;
}

/** GET /api/contacts/{id} */
export interface Contact {
  id: string;
  channel: string;
  external_id: string;
  identities: string[];
  name: string | null;
  phone: string | null;
  email: string | null;
  username: string | null;
  tags: string[];
}

/** The data of conversation.transferred (the conversation with its transfer record). */
export interface TransferredConversation extends Conversation {
  transfer: Transfer;
}

/** GET /api/conversations/{id}/transfers */
export interface Transfer {
  id: string;
  from_agent_id: string | null;
  to_agent_id: string | null;
  to_division_id: string | null;
  reason: string;
  transferred_by: string;
  created_at: string;
}

/** The data of conversation.takeover. */
export interface TakenOverConversation extends Conversation {
  previous_assignee_id: string | null;
  taken_over_by: string;
  reason: string | null;
}

/** GET /api/quick-replies */
export interface QuickReply {
  id: string;
  shortcut: string;
  title: string;
  content: string;
}

/** GET /api/working-hours/status */
export interface WorkingHoursStatus {
  is_working_hours: boolean;
  timezone: string;
  current_time: string;
  next_change_at: string | null;
}

/** GET /api/wa-templates */
export interface WaTemplate {
  id: string;
  name: string;
  language: string;
  status: string;
  body_variables: number;
}

/** The `typing` notice the gateway relays in a conversation's room (no seq: not a domain event). */
export interface TypingNotice {
  conversation_id: string;
  agent_id: string;
  name: string;
  is_typing: boolean;
}
