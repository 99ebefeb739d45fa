/**
 * WhatsApp message templates in the WhatsApp Business Account (WABA): submit one for review
 * (POST /{waba-id}/message_templates) and read them all, page by page
 * (GET /{waba-id}/message_templates). Calls go through the one Graph client (channels/meta-graph.ts:
 * timeouts, retries with backoff on 5xx/429); its GraphError reaches the caller as it is.
 * https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
 */
import { idString } from '../json.js';
import { callGraph, GraphError, type GraphEndpoint } from '../meta-graph.js';

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const asText = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** A template as submitted: Meta's own field names. */
export interface TemplateSubmission {
  name: string;
  language: string;
  category: string;
  components: Json[];
}

/** What Meta answers a submission: its id, the review status (usually PENDING) and the category it settled on. */
export interface SubmittedTemplate {
  id: string;
  status: string;
  category: string | null;
}

/** Submits a template for review. */
export async function submitTemplate(endpoint: GraphEndpoint, token: string, wabaId: string, template: TemplateSubmission): Promise<SubmittedTemplate> {
  const answer = await callGraph(endpoint, { method: 'POST', path: `/${encodeURIComponent(wabaId)}/message_templates`, token, body: { ...template } });
  const id = idString(answer.id);
  if (id === undefined) throw new GraphError('malformed', 'Graph API accepted the template without an id', 200, { message: null, type: null, code: null, subcode: null, fbtraceId: null, userTitle: null, userMessage: null });
  return { id, status: asText(answer.status) ?? 'PENDING', category: asText(answer.category) };
}

/** A template as Meta lists it. */
export interface RemoteTemplate {
  id: string;
  name: string;
  language: string;
  status: string;
  category: string | null;
  components: Json[];
  /** `rejected_reason` (INVALID_FORMAT, ABUSIVE_CONTENT, ...); null for NONE or absent. */
  rejectedReason: string | null;
}

const FIELDS = 'id,name,language,status,category,components,rejected_reason';

// Meta's largest page for this edge; fewer round trips for a WABA with hundreds of templates.
const PAGE_SIZE = '100';

// A bound on pages read in one sync: 100 x 100 is far past Meta's per-WABA template limit.
const MAX_PAGES = 100;

function remoteOf(item: unknown): RemoteTemplate | null {
  const t = asObject(item);
  const id = idString(t?.id);
  const name = asText(t?.name);
  const language = asText(t?.language);
  if (!t || id === undefined || !name || !language) return null;
  const reason = asText(t.rejected_reason);
  return {
    id,
    name,
    language,
    status: asText(t.status) ?? 'PENDING',
    category: asText(t.category),
    components: Array.isArray(t.components) ? t.components.filter((c): c is Json => asObject(c) !== undefined) : [],
    rejectedReason: reason && reason !== 'NONE' ? reason : null,
  };
}

/**
 * Every template of the WABA, following `paging.cursors.after` while Meta says there is a next
 * page. The cursor is sent to our configured Graph URL; `paging.next` (an absolute URL) is never
 * followed, so the token only ever goes where configuration says.
 */
export async function listTemplates(endpoint: GraphEndpoint, token: string, wabaId: string): Promise<RemoteTemplate[]> {
  const all: RemoteTemplate[] = [];
  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Record<string, string> = { fields: FIELDS, limit: PAGE_SIZE, ...(after ? { after } : {}) };
    const answer = await callGraph(endpoint, { method: 'GET', path: `/${encodeURIComponent(wabaId)}/message_templates`, token, query });
    for (const item of Array.isArray(answer.data) ? answer.data : []) {
      const remote = remoteOf(item);
      if (remote) all.push(remote);
    }
    const paging = asObject(answer.paging);
    const next = asText(asObject(paging?.cursors)?.after);
    if (!paging?.next || !next || next === after) return all;
    after = next;
  }
  return all;
}
