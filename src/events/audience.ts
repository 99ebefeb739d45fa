/** Who may receive a conversation's events: the audience every conversation event carries. */
import type { Conversation } from '../models/conversation.js';
import type { Audience } from './types.js';

/** The conversation's own audience: its division, its assignee, and supervisors. */
export const audienceOf = (c: Pick<Conversation, '_id' | 'division_id' | 'assignee_id'>): Audience => ({
  scope: 'conversation',
  conversationId: c._id,
  divisionId: c.division_id,
  assigneeId: c.assignee_id,
});
