/**
 * The conversation list: status tabs, whose (mine / unassigned / all), division, channel and
 * tag, unread counts, pages loaded as the list scrolls, live changes from the socket, and
 * message search.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query } from '../api';
import { localeOf, useI18n, type Lang, type StringKey } from '../i18n';
import type { Realtime } from '../realtime';
import { Tabs } from '../tabs';
import type { Contact, Conversation, Division, Message, Page } from '../types';
import { appendPage, filterKey, FIRST_FILTER, listQuery, matches, upsert, type AssigneeFilter, type InboxFilter } from './inbox-state';

const STATUSES: [string, StringKey][] = [
  ['open', 'statusOpen'],
  ['pending', 'statusPending'],
  ['resolved', 'statusResolved'],
  ['closed', 'statusClosed'],
];
const ASSIGNEES: [AssigneeFilter, StringKey][] = [
  ['mine', 'mine'],
  ['unassigned', 'unassigned'],
  ['all', 'all'],
];
/** The channels GET /api/conversations filters by. */
const CHANNELS = ['whatsapp', 'messenger', 'instagram', 'email', 'webchat'];

interface Props {
  meId: string;
  realtime: Realtime;
  /** False until the socket has said where the stream stands, so nothing falls between the first page and the live events. */
  ready: boolean;
  /** The tenant's divisions, when the caller may list them. */
  divisions: Division[];
  /** A contact renamed elsewhere in the page, whose rows show the new name. */
  renamed: Contact | null;
  selectedId: string | null;
  onSelect(id: string): void;
}

/** The inbox column. */
export function Inbox({ meId, realtime, ready, divisions, renamed, selectedId, onSelect }: Props) {
  const { t, lang } = useI18n();
  const [filter, setFilter] = useState<InboxFilter>(FIRST_FILTER);
  // Every tag seen on a conversation this page showed, for the tag filter.
  const [tags, setTags] = useState<string[]>([]);
  const [items, setItems] = useState<Conversation[]>([]);
  const [page, setPage] = useState(0);
  const [totalPages, setTotalPages] = useState(1);
  const [loading, setLoading] = useState(false);
  const [reloads, setReloads] = useState(0);
  const [search, setSearch] = useState('');
  const [hits, setHits] = useState<Message[] | null>(null);
  const sentinel = useRef<HTMLLIElement>(null);
  const shown = useRef(items);
  shown.current = items;
  // Which list a page answer belongs to: an answer for a filter no longer shown is dropped.
  const generation = useRef(0);

  const loadPage = async (n: number, gen: number) => {
    setLoading(true);
    try {
      const res = await api<Page<Conversation>>('GET', `/api/conversations${query(listQuery(filter, n))}`);
      if (gen !== generation.current) return;
      setItems((list) => (n === 1 ? res.data : appendPage(list, res.data)));
      setPage(n);
      setTotalPages(res.pagination.total_pages);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };

  // A new filter (or a resync) starts the list again from its first page; a resync keeps the
  // rows on screen until that page replaces them.
  const shownFilter = useRef('');
  useEffect(() => {
    if (!ready) return;
    const gen = ++generation.current;
    const key = filterKey(filter);
    if (shownFilter.current !== key) setItems([]);
    shownFilter.current = key;
    setPage(0);
    void loadPage(1, gen);
  }, [ready, filterKey(filter), reloads]);

  useEffect(() => {
    const seen = new Set(tags);
    const fresh = items.flatMap((c) => c.tags).filter((tag) => !seen.has(tag) && seen.add(tag));
    if (fresh.length) setTags([...seen].sort());
  }, [items]);

  useEffect(() => {
    if (!renamed) return;
    setItems((list) => list.map((c) => (c.contact?.id === renamed.id ? { ...c, contact: { ...c.contact, name: renamed.name } } : c)));
  }, [renamed]);

  useEffect(() => realtime.onResync(() => setReloads((n) => n + 1)), [realtime]);

  // Live changes: a conversation event moves, adds or removes a row.
  useEffect(
    () =>
      realtime.subscribe((e) => {
        if (!e.event.startsWith('conversation.')) return;
        const c = e.data as Conversation;
        if (!matches(filter, c, meId)) {
          setItems((list) => list.filter((x) => x.id !== c.id));
          return;
        }
        const known = shown.current.find((x) => x.id === c.id)?.contact;
        setItems((list) => upsert(list, c));
        if (known) return;
        // A conversation new to this list: its contact comes from the REST view.
        api<Conversation>('GET', `/api/conversations/${c.id}`)
          .then((full) => setItems((list) => (list.some((x) => x.id === full.id && !x.contact) ? upsert(list, full) : list)))
          .catch(() => undefined);
      }),
    [realtime, filter, meId],
  );

  // Infinite scroll: the next page loads when the end of the list comes into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || hits) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((x) => x.isIntersecting) && !loading && page > 0 && page < totalPages) void loadPage(page + 1, generation.current);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [page, totalPages, loading, hits, filter]);

  // Search: the API's message search (2+ characters), a moment after typing stops.
  useEffect(() => {
    const q = search.trim();
    if (q.length < 2) {
      setHits(null);
      return;
    }
    const timer = setTimeout(() => {
      api<Page<Message>>('GET', `/api/messages/search${query({ q, limit: 30 })}`)
        .then((res) => setHits(res.data))
        .catch(() => setHits([]));
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);

  return (
    <section class="inbox" aria-label={t('inbox')}>
      <div class="inbox-filters">
        <input type="search" placeholder={t('search')} value={search} onInput={(e) => setSearch(e.currentTarget.value)} aria-label={t('search')} />
        <Tabs options={STATUSES} value={filter.status} onChange={(status) => setFilter({ ...filter, status })} />
        <Tabs options={ASSIGNEES} value={filter.assignee} onChange={(assignee) => setFilter({ ...filter, assignee })} />
        <div class="selects">
          {divisions.length > 0 && (
            <select aria-label={t('division')} value={filter.division} onChange={(e) => setFilter({ ...filter, division: e.currentTarget.value })}>
              <option value="">{t('allDivisions')}</option>
              <option value="none">{t('noDivision')}</option>
              {divisions.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          )}
          <select aria-label={t('channel')} value={filter.channel} onChange={(e) => setFilter({ ...filter, channel: e.currentTarget.value })}>
            <option value="">{t('allChannels')}</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <select aria-label={t('tag')} value={filter.tag} onChange={(e) => setFilter({ ...filter, tag: e.currentTarget.value })}>
            <option value="">{t('allTags')}</option>
            {tags.map((tag) => (
              <option key={tag} value={tag}>
                #{tag}
              </option>
            ))}
          </select>
        </div>
      </div>
      {hits ? (
        <ul class="list" aria-label={t('searchResults')}>
          {hits.map((m) => (
            <li key={m.id}>
              <button class="row" onClick={() => onSelect(m.conversation_id)}>
                <span class="row-text">{m.text}</span>
                <time>{shortTime(m.sent_at, lang)}</time>
              </button>
            </li>
          ))}
          {hits.length === 0 && <li class="empty">{t('noConversations')}</li>}
        </ul>
      ) : (
        <ul class="list" data-testid="conversation-list">
          {items.map((c) => (
            <li key={c.id}>
              <button class={`row${c.id === selectedId ? ' selected' : ''}`} data-conversation-id={c.id} onClick={() => onSelect(c.id)}>
                <span class="row-head">
                  <span class={`channel channel-${c.channel}`}>{c.channel}</span>
                  <strong>{c.contact?.name ?? c.contact?.phone ?? c.contact?.email ?? t('unknownContact')}</strong>
                  {c.unread_count > 0 && (
                    <span class="badge" aria-label="unread">
                      {c.unread_count}
                    </span>
                  )}
                </span>
                <span class="row-text">{c.last_message_preview ?? ''}</span>
                <time>{c.last_message_at ? shortTime(c.last_message_at, lang) : ''}</time>
              </button>
            </li>
          ))}
          {!loading && items.length === 0 && <li class="empty">{t('noConversations')}</li>}
          <li ref={sentinel} class="sentinel">
            {loading ? t('loadingMore') : ''}
          </li>
        </ul>
      )}
    </section>
  );
}

/** A time as the list shows it: the hour today, the date before. */
export function shortTime(iso: string, lang: Lang): string {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString(localeOf(lang), { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString(localeOf(lang));
}
