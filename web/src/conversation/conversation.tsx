/**
 * One conversation: its contact, assignee and status with the actions on them, the thread of
 * messages (with delivery ticks) and private notes, and the composer. Live events for it update
 * the thread as they come; opening it marks it read.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api';
import { localeOf, statusLabel, useI18n } from '../i18n';
import type { Realtime } from '../realtime';
import type { Agent, Conversation, Message, MessagePage, Note, Page } from '../types';
import { Composer } from './composer';
import { TICKS, timeline, withMessage } from './thread-state';

interface Props {
  id: string;
  me: Agent;
  permissions: Set<string>;
  /** The tenant's agents when the caller may list them, for assigning to someone else. */
  agents: Agent[];
  realtime: Realtime;
}

/** The conversation column. */
export function ConversationView({ id, me, permissions, agents, realtime }: Props) {
  const { t, lang } = useI18n();
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
    setError(null);
    realtime.join(id);
    Promise.all([
      api<Conversation>('GET', `/api/conversations/${id}`),
      api<MessagePage>('GET', `/api/conversations/${id}/messages${query({ limit: 50 })}`),
      api<Page<Note>>('GET', `/api/conversations/${id}/notes${query({ limit: 100 })}`),
    ])
      .then(([c, page, notePage]) => {
        if (!live) return;
        setConversation(c);
        // Live events may have come in while these loaded: keep what is newer.
        setMessages((list) => page.data.reduce(withMessage, list));
        setHasOlder(page.pagination.has_older);
        setNotes((list) => [...notePage.data.filter((n) => !list.some((x) => x.id === n.id)), ...list]);
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
          setConversation((c) => (c ? { ...(e.data as Conversation), contact: c.contact ?? null } : c));
        }
      }),
    [realtime, id],
  );

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
  const assignee = conversation.assignee_id === me.id ? t('you') : (agents.find((a) => a.id === conversation.assignee_id)?.name ?? (conversation.assignee_id ? '…' : t('nobody')));
  const canAssign = permissions.has('conversations.assign');
  const canManage = permissions.has('conversations.manage');
  const resolved = conversation.status === 'resolved' || conversation.status === 'closed';

  return (
    <section class="conversation" data-testid="conversation" data-conversation-id={id}>
      <header class="conversation-head">
        <div>
          <h2>{contact?.name ?? contact?.phone ?? t('unknownContact')}</h2>
          <p class="muted">
            {conversation.channel} · {contact?.phone ?? contact?.email ?? ''} · {t('assignedTo')}: <span data-testid="assignee">{assignee}</span> · <span data-testid="status">{statusLabel(t, conversation.status)}</span>
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
          {canManage && (
            <button class="primary" onClick={() => act('PATCH', '/status', { status: resolved ? 'open' : 'resolved' })}>
              {resolved ? t('reopen') : t('resolve')}
            </button>
          )}
        </div>
      </header>
      {error && <p class="error">{error}</p>}
      <ol class="thread" data-testid="thread">
        {hasOlder && (
          <li class="older">
            <button onClick={loadOlder}>{t('olderMessages')}</button>
          </li>
        )}
        {timeline(messages, notes).map((item) =>
          item.kind === 'message' ? (
            <li key={item.message.id} class={`bubble ${item.message.direction}`} data-message-id={item.message.id}>
              <p>{item.message.text ?? `[${item.message.type}]`}</p>
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
      <Composer
        key={id}
        conversationId={id}
        canSend={permissions.has('messages.send')}
        canNote={permissions.has('notes.manage')}
        onSent={(m) => setMessages((list) => withMessage(list, m))}
        onNoted={(n) => setNotes((list) => (list.some((x) => x.id === n.id) ? list : [...list, n]))}
      />
    </section>
  );
}
