/**
 * One conversation: its contact, assignee and status with the actions on them (assign,
 * transfer, takeover, resolve), the thread of messages (with delivery ticks), private notes and
 * live transfers and takeovers, who else is typing, the composer, and the contact panel. Live
 * events for it update the view as they come; opening it marks it read.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api';
import { localeOf, statusLabel, useI18n } from '../i18n';
import type { Realtime } from '../realtime';
import type { Agent, Contact, Conversation, Division, Message, MessagePage, Note, Page, TakenOverConversation, Transfer, TransferredConversation } from '../types';
import { Composer } from './composer';
import { ContactPanel } from './contact-panel';
import { Handover } from './handover';
import { hasMedia, Media } from './media';
import { TICKS, timeline, transferEvent, waWindowClosed, WINDOW_MS, withEvent, withMessage, type ThreadEvent } from './thread-state';

interface Props {
  id: string;
  me: Agent;
  permissions: Set<string>;
  /** The tenant's agents when the caller may list them, for assigning to someone else. */
  agents: Agent[];
  /** The tenant's divisions when the caller may list them, for transfers. */
  divisions: Division[];
  realtime: Realtime;
  /** Called when the contact panel saved a new name. */
  onContactRenamed(contact: Contact): void;
}

/** How long a typing notice counts without a newer one (a lost "stopped" must not stick). */
const TYPING_MS = 6000;

/** The conversation column. */
export function ConversationView({ id, me, permissions, agents, divisions, realtime, onContactRenamed }: Props) {
  const { t, lang } = useI18n();
  const [events, setEvents] = useState<ThreadEvent[]>([]);
  // Who else is typing here: name by agent id, each until its notice runs out.
  const [typing, setTyping] = useState<Record<string, string>>({});
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [hasOlder, setHasOlder] = useState(false);
  const [notes, setNotes] = useState<Note[]>([]);
  const [error, setError] = useState<string | null>(null);
  // Bumped when the socket missed more than the server replays: the thread loads again.
  const [reloads, setReloads] = useState(0);

  useEffect(() => realtime.onResync(() => setReloads((n) => n + 1)), [realtime]);

  const markRead = () => api('POST', `/api/conversations/${id}/read`, {}).catch(() => undefined);

  useEffect(() => {
    let live = true;
    setConversation(null);
    setMessages([]);
    setNotes([]);
    setEvents([]);
    setError(null);
    realtime.join(id);
    Promise.all([
      api<Conversation>('GET', `/api/conversations/${id}`),
      api<MessagePage>('GET', `/api/conversations/${id}/messages${query({ limit: 50 })}`),
      api<Page<Note>>('GET', `/api/conversations/${id}/notes${query({ limit: 100 })}`),
      api<Page<Transfer>>('GET', `/api/conversations/${id}/transfers${query({ limit: 100 })}`).catch(() => null),
    ])
      .then(([c, page, notePage, transfers]) => {
        if (!live) return;
        setConversation(c);
        // Live events may have come in while these loaded: keep what is newer.
        setMessages((list) => page.data.reduce(withMessage, list));
        setHasOlder(page.pagination.has_older);
        setNotes((list) => [...notePage.data.filter((n) => !list.some((x) => x.id === n.id)), ...list]);
        setEvents((list) => (transfers?.data ?? []).map(transferEvent).reduce(withEvent, list));
        if (c.unread_count > 0) void markRead();
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
      realtime.leave(id);
    };
  }, [id, reloads]);

  useEffect(
    () =>
      realtime.subscribe((e) => {
        const data = e.data as { id: string; conversation_id?: string };
        if (e.event === 'message.created' || e.event === 'message.updated') {
          const m = e.data as Message;
          if (m.conversation_id !== id) return;
          setMessages((list) => withMessage(list, m));
          if (e.event === 'message.created' && m.direction === 'inbound') void markRead();
        } else if (e.event === 'note.created') {
          const n = e.data as Note;
          if (n.conversation_id === id) setNotes((list) => (list.some((x) => x.id === n.id) ? list : [...list, n]));
        } else if (e.event.startsWith('conversation.') && data.id === id) {
          if (e.event === 'conversation.transferred') setEvents((list) => withEvent(list, transferEvent((e.data as TransferredConversation).transfer)));
          if (e.event === 'conversation.takeover') {
            const c = e.data as TakenOverConversation;
            setEvents((list) => withEvent(list, { id: `seq-${e.seq}`, at: c.updated_at, kind: 'takeover', by: c.taken_over_by, toAgentId: c.taken_over_by, toDivisionId: null, reason: c.reason }));
          }
          setConversation((c) => (c ? { ...(e.data as Conversation), contact: c.contact ?? null } : c));
        }
      }),
    [realtime, id],
  );

  useEffect(() => {
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    const stop = realtime.onTyping((n) => {
      if (n.conversation_id !== id || n.agent_id === me.id) return;
      clearTimeout(timers.get(n.agent_id));
      const drop = () =>
        setTyping((now) => {
          const next = { ...now };
          delete next[n.agent_id];
          return next;
        });
      if (!n.is_typing) return drop();
      setTyping((now) => ({ ...now, [n.agent_id]: n.name }));
      timers.set(n.agent_id, setTimeout(drop, TYPING_MS));
    });
    return () => {
      stop();
      for (const timer of timers.values()) clearTimeout(timer);
    };
  }, [realtime, id, me.id]);

  // The WhatsApp window closes while the conversation is open: render again at that moment.
  const [, setWindowTick] = useState(0);
  const lastInbound = conversation?.last_inbound_at ?? null;
  useEffect(() => {
    if (!lastInbound) return;
    const ms = Date.parse(lastInbound) + WINDOW_MS - Date.now();
    if (ms <= 0 || ms > 2 ** 31 - 1) return;
    const timer = setTimeout(() => setWindowTick((n) => n + 1), ms + 1000);
    return () => clearTimeout(timer);
  }, [lastInbound]);

  const nameOf = (agentId: string | null) => (agentId === me.id ? t('you') : (agents.find((a) => a.id === agentId)?.name ?? '…'));

  /** The words of a transfer or takeover line. */
  const handoverLine = (e: ThreadEvent) => {
    const reason = e.reason ? `: ${e.reason}` : '';
    if (e.kind === 'takeover') return `${t('takenOverBy')} ${nameOf(e.by)}${reason}`;
    const to = e.toAgentId ? nameOf(e.toAgentId) : (divisions.find((d) => d.id === e.toDivisionId)?.name ?? '…');
    return `${t('transferredTo')} ${to} · ${nameOf(e.by)}${reason}`;
  };

  const loadOlder = async () => {
    const first = messages[0];
    if (!first) return;
    const page = await api<MessagePage>('GET', `/api/conversations/${id}/messages${query({ limit: 50, before: first.id })}`);
    setMessages((list) => page.data.reduce(withMessage, list));
    setHasOlder(page.pagination.has_older);
  };

  const act = async (method: string, path: string, body: unknown) => {
    try {
      const c = await api<Conversation>(method, `/api/conversations/${id}${path}`, body);
      setConversation((old) => ({ ...c, contact: c.contact ?? old?.contact ?? null }));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (error && !conversation) return <section class="conversation empty">{error}</section>;
  if (!conversation) return <section class="conversation empty">{t('loadingMore')}</section>;

  const contact = conversation.contact;
  const assignee = conversation.assignee_id ? nameOf(conversation.assignee_id) : t('nobody');
  const division = divisions.find((d) => d.id === conversation.division_id)?.name;
  const typers = Object.values(typing);
  const canAssign = permissions.has('conversations.assign');
  const canManage = permissions.has('conversations.manage');
  const resolved = conversation.status === 'resolved' || conversation.status === 'closed';

  return (
    <section class="conversation" data-testid="conversation" data-conversation-id={id}>
      <header class="conversation-head">
        <div>
          <h2>{contact?.name ?? contact?.phone ?? t('unknownContact')}</h2>
          <p class="muted">
            {conversation.channel} · {contact?.phone ?? contact?.email ?? ''}
            {division && <> · <span data-testid="division">{division}</span></>} · {t('assignedTo')}: <span data-testid="assignee">{assignee}</span> · <span data-testid="status">{statusLabel(t, conversation.status)}</span>
          </p>
        </div>
        <div class="actions">
          {canAssign && (
            <>
            {conversation.assignee_id !== me.id && <button onClick={() => act('PATCH', '/assign', { agent_id: me.id })}>{t('assignToMe')}</button>}
            {conversation.assignee_id && <button onClick={() => act('PATCH', '/assign', { agent_id: null })}>{t('unassign')}</button>}
            {agents.length > 1 && (
              <select aria-label={t('assignTo')} value="" onChange={(e) => e.currentTarget.value && act('PATCH', '/assign', { agent_id: e.currentTarget.value })}>
                <option value="">{t('assignTo')}</option>
                {agents
                  .filter((a) => a.id !== conversation.assignee_id)
                  .map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.name}
                    </option>
                  ))}
              </select>
            )}
            </>
          )}
          <Handover
            conversation={conversation}
            me={me}
            agents={agents}
            divisions={divisions}
            canTransfer={permissions.has('conversations.transfer')}
            canTakeover={permissions.has('conversations.takeover')}
            onChanged={(c) => {
              setError(null);
              setConversation((old) => ({ ...c, contact: c.contact ?? old?.contact ?? null }));
            }}
            onError={setError}
          />
          {canManage && (
            <button class="primary" onClick={() => act('PATCH', '/status', { status: resolved ? 'open' : 'resolved' })}>
              {resolved ? t('reopen') : t('resolve')}
            </button>
          )}
        </div>
      </header>
      {error && <p class="error">{error}</p>}
      <div class="conversation-body">
        <div class="conversation-main">
          <ol class="thread" data-testid="thread">
            {hasOlder && (
              <li class="older">
                <button onClick={loadOlder}>{t('olderMessages')}</button>
              </li>
            )}
            {timeline(messages, notes, events).map((item) =>
              item.kind === 'event' ? (
                <li key={`e${item.event.id}`} class="event" data-testid="thread-event">
                  {handoverLine(item.event)}
                </li>
              ) : item.kind === 'message' ? (
                <li key={item.message.id} class={`bubble ${item.message.direction}`} data-message-id={item.message.id}>
                  <Media content={item.message.content} />
                  {(item.message.text ?? !hasMedia(item.message.content)) && <p>{item.message.text ?? `[${item.message.type}]`}</p>}
                  <footer>
                    <time>{new Date(item.message.sent_at).toLocaleTimeString(localeOf(lang), { hour: '2-digit', minute: '2-digit' })}</time>
                    {item.message.direction === 'outbound' && (
                      <span class={`tick tick-${item.message.status}`} data-status={item.message.status} title={item.message.status}>
                        {TICKS[item.message.status] ?? item.message.status}
                      </span>
                    )}
                  </footer>
                </li>
              ) : (
                <li key={item.note.id} class="bubble note" data-note-id={item.note.id}>
                  <strong>
                    {t('privateNote')} · {item.note.author?.name ?? ''}
                  </strong>
                  <p>{item.note.body}</p>
                </li>
              ),
            )}
          </ol>
          {typers.length > 0 && (
            <p class="typing" data-testid="typing">
              {typers.join(', ')} {t('isTyping')}
            </p>
          )}
          <Composer
            key={id}
            conversation={conversation}
            windowClosed={waWindowClosed(conversation.channel, conversation.last_inbound_at)}
            onTyping={(on) => realtime.typing(id, on)}
            canSend={permissions.has('messages.send')}
            canNote={permissions.has('notes.manage')}
            canQuickReply={permissions.has('quick_replies.view')}
            onSent={(m) => setMessages((list) => withMessage(list, m))}
            onNoted={(n) => setNotes((list) => (list.some((x) => x.id === n.id) ? list : [...list, n]))}
          />
        </div>
        {contact && permissions.has('contacts.view') && (
          <ContactPanel
            key={contact.id}
            contactId={contact.id}
            conversationTags={conversation.tags}
            canEdit={permissions.has('contacts.manage')}
            onRenamed={(c) => {
              setConversation((old) => (old?.contact ? { ...old, contact: { ...old.contact, name: c.name } } : old));
              onContactRenamed(c);
            }}
          />
        )}
      </div>
    </section>
  );
}
