/**
 * Does an access token control a Meta object? The Graph API answers a node read
 * (`GET /{id}?fields=...`) only to a token that may see that object: a WhatsApp phone number
 * of the token's WhatsApp Business Account, a Page the token manages, an Instagram professional
 * account linked to such a Page. Anything else answers an error (code 100 "Unsupported get
 * request. Object with ID ... does not exist, cannot be loaded due to missing permissions", or
 * 190 for a bad token). So a read of the id with the token is the proof of ownership a claim needs.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/solution-providers/manage-phone-numbers
 * https://developers.facebook.com/docs/graph-api/reference/page/
 * https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user
 */
import { callGraph, GraphError, type GraphEndpoint } from './meta-graph.js';
import type { ChannelName } from './types.js';

/** The node fields read per channel: `id` is what proves it; the rest names the account for the log. */
const FIELDS: Record<Exclude<ChannelName, 'email' | 'webchat'>, string> = {
  whatsapp: 'id,display_phone_number',
  messenger: 'id,name',
  instagram: 'id,username',
};

/** What the Graph API said about the token and the id. */
export type OwnershipAnswer =
  /** The token reads the object, and Graph names it by the same id. */
  | { kind: 'controls'; fields: Record<string, unknown> }
  /** Graph refused (4xx) or named another object: the token does not control the id. */
  | { kind: 'refused'; reason: string }
  /** Graph could not be reached, timed out, or answered 5xx / 429: nothing is known. */
  | { kind: 'unavailable'; reason: string }
  /** Graph answered 2xx with something that is not a node. */
  | { kind: 'malformed'; reason: string };

/** Reads Meta object `id` of `channel` with `accessToken` and says whether the token controls it. */
export async function readMetaOwnership(endpoint: GraphEndpoint, channel: Exclude<ChannelName, 'email' | 'webchat'>, id: string, accessToken: string): Promise<OwnershipAnswer> {
  let fields: Record<string, unknown>;
  try {
    fields = await callGraph(endpoint, { path: `/${encodeURIComponent(id)}`, query: { fields: FIELDS[channel] }, token: accessToken });
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    return { kind: err.kind, reason: err.message };
  }
  // Graph names the node it read; another id means the token reached some other object.
  if (String(fields.id) !== id) return { kind: 'refused', reason: `Graph API answered for id ${String(fields.id).slice(0, 64)}, not ${id}` };
  return { kind: 'controls', fields };
}
