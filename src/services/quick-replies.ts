/**
 * Quick replies (canned responses): who sees which, writing them, counting their use and
 * filling their variables for a conversation, and each agent's favourites.
 *
 * Visibility: everyone with quick_replies.view sees the tenant-wide replies, those of their own
 * divisions and their own personal ones; holders of quick_replies.manage also see every
 * division's replies, so they can manage them. Another agent's personal reply is never visible
 * to anyone but its owner: it answers 404, exactly like another tenant's.
 */
import type { Principal } from '../auth/principal.js';
import { BodyFieldError, ConflictError, isDuplicateKey, NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { contacts } from '../models/contact.js';
import { divisions } from '../models/division.js';
import {
  findQuickReplyRange,
  quickReplies,
  quickReplyFavoriteId,
  quickReplyFavorites,
  quickReplySearchText,
  recordQuickReplyUse,
  type QuickReply,
  type QuickReplyScope,
} from '../models/quick-reply.js';
import type { Page, Scoped, Sort } from '../models/repo.js';
import { findTenant } from '../models/tenant.js';
import { users } from '../models/user.js';
import type { Acting } from './agents.js';
import { findVisibleConversation } from './conversation-access.js';
import { divisionIdsOf } from './division-members.js';
import { renderContent } from './quick-reply-rules.js';
import { escapeRegex } from './text-match.js';

/** A quick reply as one caller sees it. */
export interface QuickReplyView {
  reply: QuickReply;
  /** True when it is among the caller's favourites. */
  favorited: boolean;
}

/** Most used first; ties by shortcut, any case. */
export const QUICK_REPLY_ORDER: Sort = { usage_count: -1, shortcut_key: 1, _id: 1 };

/** The filter of the replies the caller may see. */
export async function visibleQuickRepliesFilter(principal: Principal): Promise<Scoped> {
  const own = { owner_id: principal.userId };
  if (principal.permissions.has('quick_replies.manage')) {
    return { tenant_id: principal.tenantId, $or: [{ scope: { $in: ['tenant', 'division'] } }, own] };
  }
  const divisionIds = await divisionIdsOf(principal.tenantId, principal.userId);
  return {
    tenant_id: principal.tenantId,
    $or: [{ scope: 'tenant' }, ...(divisionIds.length ? [{ scope: 'division', division_id: { $in: divisionIds } }] : []), own],
  };
}

/** The reply if the caller may see it, else NotFoundError. */
export async function findVisibleQuickReply(principal: Principal, id: string): Promise<QuickReply> {
  const reply = await quickReplies.findOwned(principal.tenantId, id);
  const visible =
    reply.scope === 'tenant' ||
    (reply.scope === 'personal' && reply.owner_id === principal.userId) ||
    (reply.scope === 'division' &&
      (principal.permissions.has('quick_replies.manage') ||
        (await divisionIdsOf(principal.tenantId, principal.userId)).includes(reply.division_id ?? '')));
  if (!visible) throw NotFoundError('Quick reply');
  return reply;
}

/** The ids of the caller's favourite replies. */
async function favoriteIdsOf(principal: Principal): Promise<string[]> {
  const list = await quickReplyFavorites.find({ tenant_id: principal.tenantId, user_id: principal.userId });
  return list.map((f) => f.quick_reply_id);
}

/** Which of these replies the caller has favourited (reads the favourites by `_id`). */
async function favoritedAmong(principal: Principal, replies: QuickReply[]): Promise<Set<string>> {
  const ids = replies.map((r) => quickReplyFavoriteId(principal.tenantId, r._id, principal.userId));
  const found = await quickReplyFavorites.findMany(principal.tenantId, ids);
  return new Set(found.map((f) => f.quick_reply_id));
}

async function viewsOf(principal: Principal, replies: QuickReply[]): Promise<QuickReplyView[]> {
  const favorited = await favoritedAmong(principal, replies);
  return replies.map((reply) => ({ reply, favorited: favorited.has(reply._id) }));
}

/** Filters shared by the list and the export. */
export interface QuickReplyFilters {
  /** Part of the shortcut, title or content, any case. */
  q?: string;
  scope?: QuickReplyScope;
  divisionId?: string;
}

/** The caller's visible replies narrowed by the filters. */
export async function quickReplyFilter(principal: Principal, f: QuickReplyFilters): Promise<Scoped> {
  const { tenant_id, ...visible } = await visibleQuickRepliesFilter(principal);
  const and: Record<string, unknown>[] = [visible];
  // Literal and without case, on the lower-cased copy (see quickReplySearchText for why).
  if (f.q) and.push({ search_text: { $regex: escapeRegex(f.q.toLowerCase()) } });
  if (f.scope) and.push({ scope: f.scope });
  if (f.divisionId) and.push({ division_id: f.divisionId });
  return { tenant_id, $and: and };
}

/** The list's query. */
export interface ListQuickReplies extends Acting, QuickReplyFilters {
  /** Only the caller's favourites. */
  favoritesOnly: boolean;
  page: number;
  limit: number;
}

/**
 * One page of the visible replies: the caller's favourites first, then the others, each part
 * most used first. The two parts are two indexed queries, so a page straddling them is exact.
 */
export async function listQuickReplies(cmd: ListQuickReplies): Promise<Page<QuickReplyView>> {
  const base = await quickReplyFilter(cmd.principal, cmd);
  const favIds = await favoriteIdsOf(cmd.principal);
  const favFilter: Scoped = { ...base, _id: { $in: favIds } };
  const skip = (cmd.page - 1) * cmd.limit;
  if (cmd.favoritesOnly || favIds.length === 0) {
    const filter = cmd.favoritesOnly ? favFilter : base;
    const [items, total] = await Promise.all([findQuickReplyRange(filter, QUICK_REPLY_ORDER, skip, cmd.limit), quickReplies.count(filter)]);
    return { items: items.map((reply) => ({ reply, favorited: cmd.favoritesOnly })), total, page: cmd.page, limit: cmd.limit };
  }
  const restFilter: Scoped = { ...base, _id: { $nin: favIds } };
  const [favTotal, restTotal] = await Promise.all([quickReplies.count(favFilter), quickReplies.count(restFilter)]);
  const favs = skip < favTotal ? await findQuickReplyRange(favFilter, QUICK_REPLY_ORDER, skip, cmd.limit) : [];
  const restLimit = cmd.limit - favs.length;
  const rest = restLimit > 0 ? await findQuickReplyRange(restFilter, QUICK_REPLY_ORDER, Math.max(0, skip - favTotal), restLimit) : [];
  const items = [...favs.map((reply) => ({ reply, favorited: true })), ...rest.map((reply) => ({ reply, favorited: false }))];
  return { items, total: favTotal + restTotal, page: cmd.page, limit: cmd.limit };
}

/** The fields a caller writes. */
export interface QuickReplyFields {
  shortcut: string;
  title: string;
  content: string;
  scope: QuickReplyScope;
  /** Required for scope `division`, refused otherwise. */
  divisionId: string | null;
}

/** Create a quick reply. */
export interface CreateQuickReply extends Acting, QuickReplyFields {}

const scopeWords: Record<QuickReplyScope, string> = {
  tenant: 'by a tenant-wide quick reply',
  division: 'by a quick reply of this division',
  personal: 'by one of your personal quick replies',
};

/** The 409 for a shortcut its scope owner already uses. */
export const shortcutTaken = (shortcut: string, scope: QuickReplyScope) =>
  ConflictError(`The shortcut "${shortcut}" is already used ${scopeWords[scope]} (shortcuts are compared without case)`);

async function requireDivision(tenantId: string, divisionId: string): Promise<void> {
  if (!(await divisions.findOwnedOrNull(tenantId, divisionId))) {
    throw BodyFieldError('division_id', 'is not a division of this organization');
  }
}

/** Runs a write that may take a shortcut, turning a lost claim into the 409 that names it. */
async function claiming<T>(shortcut: string, scope: QuickReplyScope, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isDuplicateKey(err)) throw shortcutTaken(shortcut, scope);
    throw err;
  }
}

/** Creates the reply; a personal one belongs to the caller. 409 when the shortcut is taken in its scope. */
export async function createQuickReply(cmd: CreateQuickReply): Promise<QuickReplyView> {
  if (cmd.scope === 'division' && cmd.divisionId) await requireDivision(cmd.tenantId, cmd.divisionId);
  const reply = await claiming(cmd.shortcut, cmd.scope, () =>
    quickReplies.insert({
      _id: newId(),
      tenant_id: cmd.tenantId,
      shortcut: cmd.shortcut,
      shortcut_key: cmd.shortcut.toLowerCase(),
      title: cmd.title,
      content: cmd.content,
      scope: cmd.scope,
      division_id: cmd.scope === 'division' ? cmd.divisionId : null,
      owner_id: cmd.scope === 'personal' ? cmd.principal.userId : null,
      created_by: cmd.principal.userId,
      search_text: quickReplySearchText(cmd),
      usage_count: 0,
      last_used_at: null,
    }),
  );
  return { reply, favorited: false };
}

/** Update a quick reply; absent fields stay. */
export interface UpdateQuickReply extends Acting, Partial<QuickReplyFields> {
  id: string;
}

/**
 * Applies the changes. Moving to `personal` makes it the caller's; moving to `division` needs a
 * division_id unless it already is a division reply. 409 when the shortcut is taken in the
 * (new) scope.
 */
export async function updateQuickReply(cmd: UpdateQuickReply): Promise<QuickReplyView> {
  const current = await findVisibleQuickReply(cmd.principal, cmd.id);
  const scope = cmd.scope ?? current.scope;
  const set: Partial<QuickReply> = {};
  if (cmd.shortcut !== undefined) Object.assign(set, { shortcut: cmd.shortcut, shortcut_key: cmd.shortcut.toLowerCase() });
  if (cmd.title !== undefined) set.title = cmd.title;
  if (cmd.content !== undefined) set.content = cmd.content;
  set.search_text = quickReplySearchText({ ...current, ...set });
  if (scope === 'division') {
    const divisionId = cmd.divisionId ?? (current.scope === 'division' ? current.division_id : null);
    if (!divisionId) throw BodyFieldError('division_id', 'is required when scope is division');
    if (divisionId !== current.division_id) await requireDivision(cmd.tenantId, divisionId);
    set.division_id = divisionId;
  } else if (cmd.divisionId) {
    throw BodyFieldError('division_id', 'is only allowed with scope division');
  } else {
    set.division_id = null;
  }
  set.scope = scope;
  set.owner_id = scope === 'personal' ? (current.scope === 'personal' ? current.owner_id : cmd.principal.userId) : null;
  const reply = await claiming(cmd.shortcut ?? current.shortcut, scope, () => quickReplies.update(cmd.tenantId, cmd.id, set));
  const [view] = await viewsOf(cmd.principal, [reply]);
  return view as QuickReplyView;
}

/** Delete, use or (un)favourite one reply. */
export interface OnQuickReply extends Acting {
  id: string;
}

/** Removes the reply, frees its shortcut, and drops it from every agent's favourites. */
export async function deleteQuickReply(cmd: OnQuickReply): Promise<QuickReply> {
  const reply = await findVisibleQuickReply(cmd.principal, cmd.id);
  await quickReplies.remove(cmd.tenantId, reply._id);
  await quickReplyFavorites.removeMany({ tenant_id: cmd.tenantId, quick_reply_id: reply._id });
  return reply;
}

/** Record one use, optionally filling the content for a conversation. */
export interface UseQuickReply extends OnQuickReply {
  /** A conversation the caller may see; its contact and channel fill the variables. */
  conversationId?: string;
}

/** A recorded use. */
export interface QuickReplyUse extends QuickReplyView {
  /** The content with variables filled; null when no conversation was named. */
  rendered: string | null;
  /** Variables that had no value for this conversation (rendered empty). */
  unfilled: string[];
}

/**
 * Counts the use atomically (every one of concurrent uses counts) and stamps last_used_at.
 * With a conversation (404 when the caller may not see it) the content comes back filled from
 * its contact, the caller as agent, and the organization.
 */
export async function useQuickReply(cmd: UseQuickReply): Promise<QuickReplyUse> {
  await findVisibleQuickReply(cmd.principal, cmd.id);
  const conversation = cmd.conversationId ? await findVisibleConversation(cmd.principal, cmd.conversationId) : null;
  const reply = await recordQuickReplyUse(cmd.tenantId, cmd.id, new Date());
  if (!reply) throw NotFoundError('Quick reply');
  const [view] = await viewsOf(cmd.principal, [reply]);
  if (!conversation) return { ...(view as QuickReplyView), rendered: null, unfilled: [] };
  const [contact, agent, tenant] = await Promise.all([
    contacts.findOwnedOrNull(cmd.tenantId, conversation.contact_id),
    users.findOwnedOrNull(cmd.tenantId, cmd.principal.userId),
    findTenant(cmd.tenantId),
  ]);
  const { text, unfilled } = renderContent(reply.content, {
    'contact.name': contact?.name ?? null,
    'contact.phone': contact?.phone ?? null,
    'contact.email': contact?.email ?? null,
    'agent.name': agent?.name ?? cmd.principal.userName,
    'agent.email': agent?.email ?? null,
    'conversation.id': conversation._id,
    'conversation.channel': conversation.channel,
    'organization.name': tenant?.name ?? null,
  });
  return { ...(view as QuickReplyView), rendered: text, unfilled };
}

/** Adds the reply to the caller's favourites; adding it again changes nothing. */
export async function favoriteQuickReply(cmd: OnQuickReply): Promise<QuickReplyView> {
  const reply = await findVisibleQuickReply(cmd.principal, cmd.id);
  const _id = quickReplyFavoriteId(cmd.tenantId, reply._id, cmd.principal.userId);
  try {
    await quickReplyFavorites.insert({ _id, tenant_id: cmd.tenantId, quick_reply_id: reply._id, user_id: cmd.principal.userId });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  // A deletion that ran meanwhile removed the reply's favourites before this one existed.
  if (!(await quickReplies.findOwnedOrNull(cmd.tenantId, reply._id))) {
    await quickReplyFavorites.remove(cmd.tenantId, _id);
    throw NotFoundError('Quick reply');
  }
  return { reply, favorited: true };
}

/** Removes the reply from the caller's favourites; removing one that is not there changes nothing. */
export async function unfavoriteQuickReply(cmd: OnQuickReply): Promise<QuickReplyView> {
  const reply = await findVisibleQuickReply(cmd.principal, cmd.id);
  await quickReplyFavorites.remove(cmd.tenantId, quickReplyFavoriteId(cmd.tenantId, reply._id, cmd.principal.userId));
  return { reply, favorited: false };
}
