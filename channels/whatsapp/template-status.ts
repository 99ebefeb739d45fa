/**
 * WhatsApp `message_template_status_update` webhook changes -> InboundTemplateStatus events.
 * Meta posts one per review outcome of a template of the WhatsApp Business Account (entry.id):
 * `{ event, message_template_id, message_template_name, message_template_language, reason,
 * other_info?: { title, description } }`, dated by entry.time (unix seconds).
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
 */
import { idString } from '../json.js';
import type { InboundTemplateStatus } from '../types.js';

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asText = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** entry.time as RFC 3339; receipt time when absent (it only orders reports of one template). */
function timeOf(v: unknown): string {
  const seconds = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return new Date(Number.isFinite(seconds) ? seconds * 1000 : Date.now()).toISOString();
}

function readChange(wabaId: string, time: string, value: Json): InboundTemplateStatus | undefined {
  const name = asText(value.message_template_name);
  const language = asText(value.message_template_language);
  const event = asText(value.event);
  if (!name || !language || !event) return undefined;
  const out: InboundTemplateStatus = { kind: 'template_status', channel: 'whatsapp', accountExternalId: wabaId, name, language, event: event.toUpperCase(), timestamp: time };
  const templateId = idString(value.message_template_id);
  if (templateId !== undefined) out.templateExternalId = templateId;
  const reason = asText(value.reason);
  const described = asText(asObject(value.other_info)?.description);
  if (reason && reason.toUpperCase() !== 'NONE') out.reason = reason;
  else if (described) out.reason = described;
  return out;
}

/** The template status events of a parsed WhatsApp webhook body, in body order. */
export function readTemplateStatuses(body: Json | undefined): InboundTemplateStatus[] {
  const out: InboundTemplateStatus[] = [];
  for (const entry of asArray(body?.entry)) {
    const e = asObject(entry);
    const wabaId = idString(e?.id);
    if (!e || wabaId === undefined) continue;
    for (const change of asArray(e.changes)) {
      const c = asObject(change);
      const value = asObject(c?.value);
      if (c?.field !== 'message_template_status_update' || !value) continue;
      const event = readChange(wabaId, timeOf(e.time), value);
      if (event) out.push(event);
    }
  }
  return out;
}
