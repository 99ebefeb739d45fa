/** What every conversation-actor handler shares: its shape and how it writes the conversation. */
import { ConversationModel, type Conversation } from '../../src/models/conversation.js';

/** A handler: (conversation, payload) -> the conversation after, and the reply. */
export type ConversationHandler<P, R> = (conversation: Conversation, payload: P) => Promise<{ state: Conversation; reply: R }>;

/** Writes the changed fields of a conversation with the next version; answers the new state. */
export async function saveConversation(c: Conversation, set: Partial<Conversation>): Promise<Conversation> {
  const next = { ...c, ...set, version: c.version + 1, updated_at: new Date() };
  await ConversationModel.updateOne({ _id: c._id }, { $set: { ...set, version: next.version, updated_at: next.updated_at } }, { timestamps: false }).exec();
  return next;
}
