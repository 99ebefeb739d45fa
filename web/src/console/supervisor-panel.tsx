/**
 * The supervisor view: every agent with their status and load (open and pending conversations
 * assigned to them), and a feed of transfers and takeovers, all kept live from the socket
 * (agent.status_changed and the conversation events, which carry the whole conversation).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query } from '../api';
import { localeOf, useI18n } from '../i18n';
import type { Agent, Conversation, Page, TakenOverConversation, TransferredConversation } from '../types';
import type { PanelProps } from './panels';

const ACTIVE = ['open', 'pending'];
/** Pages of active conversations read at most (100 each) before counting from events only. */
const MAX_PAGES = 10;

interface FeedLine {
  seq: number;
  at: string;
  kind: 'transfer' | 'takeover';
  conversationId: string;
  from: string | null;
  to: string | null;
  reason: string | null;
}

/** Agents, their load and the handover feed. */
export function SupervisorPanel({ me, realtime, ready }: PanelProps) {
  const { t, lang } = useI18n();
  const [agents, setAgents] = useState<Agent[]>([]);
  // Each active conversation's assignee: the load is counted from it.
  const [assignees, setAssignees] = useState<Map<string, string | null>>(new Map());
  const [feed, setFeed] = useState<FeedLine[]>([]);
  const [error, setError] = useState<string | null>(null);
  // Bumped when the socket missed more than the server replays: everything loads again.
  const [reloads, setReloads] = useState(0);
  // What events said while the pages were loading: newer than those pages.
  const sinceLoad = useRef(new Map<string, string | null | undefined>());

  useEffect(() => realtime.onResync(() => setReloads((n) => n + 1)), [realtime]);

  useEffect(() => {
    if (!ready) return;
    let live = true;
    sinceLoad.current = new Map();
    const load = async () => {
      const agentPage = await api<Page<Agent>>('GET', `/api/agents${query({ limit: 100 })}`);
      const found = new Map<string, string | null>();
      for (let page = 1; page <= MAX_PAGES; page++) {
        const res = await api<Page<Conversation>>('GET', `/api/conversations${query({ status: ACTIVE.join(','), limit: 100, page })}`);
        for (const c of res.data) found.set(c.id, c.assignee_id);
        if (page >= res.pagination.total_pages) break;
      }
      if (!live) return;
      setAgents(agentPage.data);
      // undefined: the conversation left the active ones while the pages loaded.
      for (const [id, assignee] of sinceLoad.current) {
        if (assignee === undefined) found.delete(id);
        else found.set(id, assignee);
      }
      setAssignees(found);
    };
    load().catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [ready, reloads]);

  useEffect(
    () =>
      realtime.subscribe((e) => {
        if (e.event === 'agent.status_changed') {
          const a = e.data as Partial<Agent> & { id: string };
          setAgents((list) => list.map((x) => (x.id === a.id ? { ...x, ...a } : x)));
          return;
        }
        if (!e.event.startsWith('conversation.')) return;
        const c = e.data as Conversation;
        const active = ACTIVE.includes(c.status);
        sinceLoad.current.set(c.id, active ? c.assignee_id : undefined);
        setAssignees((now) => {
          const next = new Map(now);
          if (active) next.set(c.id, c.assignee_id);
          else next.delete(c.id);
          return next;
        });
        const line = feedLine(e.seq, e.event, e.data);
        if (line) setFeed((list) => [line, ...list].slice(0, 50));
      }),
    [realtime],
  );

  const load = new Map<string, number>();
  for (const a of assignees.values()) if (a) load.set(a, (load.get(a) ?? 0) + 1);
  const nameOf = (id: string | null) => (id === me.id ? t('you') : (agents.find((a) => a.id === id)?.name ?? (id ? '…' : t('nobody'))));
  const sorted = [...agents].filter((a) => a.is_active !== false).sort((a, b) => (a.status === b.status ? a.name.localeCompare(b.name) : a.status === 'online' ? -1 : 1));

  return (
    <section class="supervisor" aria-label={t('supervisor')}>
      <h2>{t('agents')}</h2>
      {error && <p class="error">{error}</p>}
      <table data-testid="agent-table">
        <thead>
          <tr>
            <th>{t('agent')}</th>
            <th>{t('status')}</th>
            <th>{t('load')}</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((a) => (
            <tr key={a.id} data-agent-id={a.id}>
              <td>{a.name}</td>
              <td>
                <span class={`presence presence-${a.status}`} data-status={a.status}>
                  {a.status === 'online' ? t('online') : t('offline')}
                </span>
              </td>
              <td data-testid="load">
                {load.get(a.id) ?? 0}
                {a.max_concurrent_conversations ? ` / ${a.max_concurrent_conversations}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('handovers')}</h2>
      <ul class="feed" data-testid="handover-feed">
        {feed.length === 0 && <li class="muted">{t('noHandovers')}</li>}
        {feed.map((l) => (
          <li key={l.seq}>
            <time>{new Date(l.at).toLocaleTimeString(localeOf(lang), { hour: '2-digit', minute: '2-digit' })}</time>{' '}
            {l.kind === 'transfer' ? t('transfer') : t('takeOver')}: {nameOf(l.from)} → {nameOf(l.to)}
            {l.reason ? ` · ${l.reason}` : ''}
          </li>
        ))}
      </ul>
    </section>
  );
}

function feedLine(seq: number, event: string, data: unknown): FeedLine | null {
  const at = new Date().toISOString();
  if (event === 'conversation.transferred') {
    const c = data as TransferredConversation;
    return { seq, at, kind: 'transfer', conversationId: c.id, from: c.transfer.from_agent_id, to: c.transfer.to_agent_id, reason: c.transfer.reason };
  }
  if (event === 'conversation.takeover') {
    const c = data as TakenOverConversation;
    return { seq, at, kind: 'takeover', conversationId: c.id, from: c.previous_assignee_id, to: c.taken_over_by, reason: c.reason };
  }
  return null;
}
