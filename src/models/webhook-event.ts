/**
 * Raw webhook deliveries, stored before they are acknowledged (ARCHITECTURE invariant 6).
 * `_id` is the SHA-256 of channel and raw body, so Meta's retry of the same payload is stored
 * once. Processing marks them done; a recovery pass picks up any left pending by a crash.
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';

/** Where a delivery is in its life. */
export type WebhookEventStatus = 'pending' | 'processed' | 'ignored' | 'failed';

/** A stored webhook delivery. */
export interface WebhookEvent {
  _id: string;
  channel: ChannelName;
  /** The body exactly as received. */
  raw: Buffer;
  content_type: string | null;
  /** Set once the receiving account is known. */
  tenant_id: string | null;
  status: WebhookEventStatus;
  attempts: number;
  /** Why it was ignored or failed. */
  note: string | null;
  received_at: Date;
  processed_at: Date | null;
}

const schema = new Schema<WebhookEvent>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    raw: { type: Buffer, required: true },
    content_type: { type: String, default: null },
    tenant_id: { type: String, default: null },
    status: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    note: { type: String, default: null },
    received_at: { type: Date, required: true },
    processed_at: { type: Date, default: null },
  },
  { collection: 'webhook_events', versionKey: false },
);
// Serves the recovery pass: pending deliveries, oldest first.
schema.index({ status: 1, received_at: 1 });

/** The webhook_events collection. */
export const WebhookEventModel = model<WebhookEvent>('WebhookEvent', schema);
