/**
 * The durable listeners every server process runs (src/events/listener.ts). Add one by writing
 * `src/events/listeners/<name>.ts` exporting a DurableListener and listing it here; the realtime
 * fan-out is the every-process listener the gateway registers itself.
 */
import type { DurableListener } from '../listener.js';
import { aiRepliesListener } from './ai-replies.js';
import { analyticsListener } from './analytics.js';
import { automationListener } from './automation.js';
import { campaignStatusesListener } from './campaign-statuses.js';
import { csatListener } from './csat.js';
import { outgoingWebhooksListener } from './outgoing-webhooks.js';
import { slaListener } from './sla.js';
import { usageCountersListener } from './usage-counters.js';

export const DURABLE_LISTENERS: DurableListener[] = [slaListener, csatListener, campaignStatusesListener, outgoingWebhooksListener, analyticsListener, automationListener, aiRepliesListener, usageCountersListener];
