/**
 * The Graph API with the platform's configuration (META_GRAPH_URL, META_GRAPH_VERSION, timeout
 * and retries), and its failures as clear HTTP answers: Meta refusing (4xx with its error body)
 * is a 422 carrying Meta's message, code and fbtrace_id; unreachable, timing out, 5xx or 429
 * after the retries, or one of Meta's rate limits, a 503 (try again later); an answer that is
 * not a Graph object, a 502. Tokens never appear in a message.
 */
import { callGraph, GraphError, type GraphObject, type GraphRequest } from '../../channels/meta-graph.js';
import { appContext } from '../context.js';
import { AppError } from '../errors.js';
import { logger } from '../logger.js';

/**
 * Meta's throttling codes (application, user, Page and account limits): a 4xx that says
 * "later", not "never". https://developers.facebook.com/docs/graph-api/overview/rate-limiting
 */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006, 80007, 80008, 80014, 130429]);

/** What the error answers say each call was for (`exchange the authorization code`). */
export interface GraphPurpose {
  /** Lower-case verb phrase: "read the WhatsApp Business Account". */
  what: string;
  /** The request field Meta's refusal is about (details name it), e.g. `code`. */
  field?: string;
}

/** Turns a GraphError into the answer the caller gets. */
export function graphFailure(err: GraphError, purpose: GraphPurpose): AppError {
  const { info } = err;
  const trace = [info.code !== null ? `code ${info.code}` : '', info.subcode !== null ? `subcode ${info.subcode}` : '', info.fbtraceId ? `fbtrace_id ${info.fbtraceId}` : '']
    .filter(Boolean)
    .join(', ');
  const human = [info.userTitle, info.userMessage].filter(Boolean).join(': ');
  const said = `${info.message ?? err.message}${human ? `: ${human}` : ''}${trace ? ` (${trace})` : ''}`;
  logger.warn({ kind: err.kind, httpStatus: err.httpStatus, code: info.code, subcode: info.subcode, fbtraceId: info.fbtraceId, what: purpose.what }, 'Graph API call failed');
  if (err.kind === 'unavailable' || (info.code !== null && RATE_LIMIT_CODES.has(info.code))) {
    return new AppError(503, 'provider_unavailable', `Could not ${purpose.what}: the Graph API is unavailable or rate limited; try again later (${said})`);
  }
  if (err.kind === 'malformed' || info.message === null) {
    return new AppError(502, 'provider_error', `Could not ${purpose.what}: the Graph API gave an unreadable answer (HTTP ${err.httpStatus ?? 'none'})`);
  }
  const message = `Meta refused to ${purpose.what}: ${said}`;
  return new AppError(422, 'provider_refused', message, purpose.field ? [{ in: 'body', field: purpose.field, message: `Meta: ${said}` }] : undefined);
}

/** One Graph call with the platform's settings; a failure becomes an AppError (graphFailure). */
export async function graph(req: GraphRequest, purpose: GraphPurpose): Promise<GraphObject> {
  try {
    return await callGraph(appContext().config.meta, req);
  } catch (err) {
    throw err instanceof GraphError ? graphFailure(err, purpose) : err;
  }
}

/** The platform's Meta app (META_APP_ID, META_APP_SECRET); 503 naming what is missing when it is not set up. */
export function metaApp(feature: string): { appId: string; appSecret: string } {
  const { appId, appSecret } = appContext().config.meta;
  if (appId && appSecret) return { appId, appSecret };
  const missing = [appId ? null : 'META_APP_ID', appSecret ? null : 'META_APP_SECRET'].filter(Boolean).join(' and ');
  throw new AppError(503, 'not_configured', `${feature} is not set up on this server (the operator must set ${missing})`);
}

/**
 * Exchanges an authorization code for a user access token (`GET /oauth/access_token`); with
 * `redirectUri` for Facebook Login, without it for the JS SDK's Embedded Signup.
 * https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#confirm
 */
export async function exchangeCode(feature: string, code: string, redirectUri: string | null): Promise<string> {
  const { appId, appSecret } = metaApp(feature);
  const query: Record<string, string> = { client_id: appId, client_secret: appSecret, code };
  if (redirectUri) query.redirect_uri = redirectUri;
  const answer = await graph({ path: '/oauth/access_token', query }, { what: 'exchange the authorization code', field: 'code' });
  return tokenOf(answer, 'exchange the authorization code');
}

/**
 * Trades a short-lived user token for a long-lived one (`grant_type=fb_exchange_token`); Page
 * tokens read with a long-lived user token do not expire.
 * https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
 */
export async function longLivedToken(feature: string, token: string): Promise<string> {
  const { appId, appSecret } = metaApp(feature);
  const answer = await graph(
    { path: '/oauth/access_token', query: { grant_type: 'fb_exchange_token', client_id: appId, client_secret: appSecret, fb_exchange_token: token } },
    { what: 'get a long-lived access token' },
  );
  return tokenOf(answer, 'get a long-lived access token');
}

function tokenOf(answer: GraphObject, what: string): string {
  const token = answer.access_token;
  if (typeof token !== 'string' || token.length < 8) throw new AppError(502, 'provider_error', `Could not ${what}: the Graph API answered no access_token`);
  return token;
}

/** The `data` array of a Graph edge, keeping only objects. */
function edgeData(answer: GraphObject): GraphObject[] {
  const data = answer.data;
  if (!Array.isArray(data)) throw new AppError(502, 'provider_error', 'The Graph API answered a list without its data array');
  return data.filter((d): d is GraphObject => typeof d === 'object' && d !== null && !Array.isArray(d));
}

// 100 per page, 10 pages: more Pages or numbers than one login connects in practice.
const EDGE_PAGE = '100';
const EDGE_PAGES = 10;

/**
 * Every item of a Graph edge (`/me/accounts`, `/{waba}/phone_numbers`), following the `after`
 * cursor while Meta says there is a next page.
 * https://developers.facebook.com/docs/graph-api/results
 */
export async function readEdge(req: GraphRequest, purpose: GraphPurpose): Promise<GraphObject[]> {
  const items: GraphObject[] = [];
  let after: string | null = null;
  for (let n = 0; n < EDGE_PAGES; n++) {
    const answer = await graph({ ...req, query: { ...req.query, limit: EDGE_PAGE, ...(after ? { after } : {}) } }, purpose);
    items.push(...edgeData(answer));
    const paging = answer.paging as { next?: unknown; cursors?: { after?: unknown } } | undefined;
    after = typeof paging?.next === 'string' && typeof paging.cursors?.after === 'string' ? paging.cursors.after : null;
    if (!after) break;
  }
  return items;
}

/** A Graph id or text field as a string, or null. */
export const graphText = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
