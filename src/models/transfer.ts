/**
 * Transfer history: one record per hand-over of a conversation to another agent or division,
 * appended by the conversation's actor in the same step that moves the conversation, so the
 * history and the conversation never disagree about who had it.
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored transfer. */
export interface Transfer extends TenantDoc {
  conversation_id: string;
  from_agent_id: string | null;
  from_division_id: string | null;
  to_agent_id: string | null;
  to_division_id: string | null;
  reason: string;
  /** The user (or API key's user) who made the transfer. */
  transferred_by: string;
}

const schema = baseSchema<Transfer>(
  {
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    from_agent_id: { type: String, default: null },
    from_division_id: { type: String, default: null },
    to_agent_id: { type: String, default: null },
    to_division_id: { type: String, default: null },
    reason: { type: String, required: true },
    transferred_by: { type: String, required: true },
  },
  'transfers',
);
// Serves a conversation's transfer history, oldest first (ids are time-ordered UUID v7 for ties).
schema.index({ tenant_id: 1, conversation_id: 1, created_at: 1, _id: 1 });

/** The transfers collection. */
export const TransferModel = model<Transfer>('Transfer', schema);

/** Tenant-scoped access to transfers. */
export const transfers = tenantRepo(TransferModel, 'Transfer');
