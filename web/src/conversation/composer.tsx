/**
 * Reply or private note. A reply carries one idempotency key per composed message: the key is
 * made when composing starts and kept until the server has the message, so a double click, a
 * retry after a timeout or a second tab's replay sends it once (POST answers 200 for a replay).
 * Typing `/word` offers the quick replies matching it; while composing, the other watchers of
 * the conversation are told this agent is typing. When WhatsApp's 24-hour window is closed, only
 * a template can be sent (the API refuses text then).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query } from '../api';
import { useI18n, type StringKey } from '../i18n';
import { randomId } from '../ids';
import { Tabs } from '../tabs';
import type { Conversation, Message, Note, Page, QuickReply } from '../types';
import { shortcutQuery } from './quick-replies';
import { Templates } from './templates';

type Mode = 'reply' | 'note';

interface Props {
  conversation: Conversation;
  /** WhatsApp's window is closed: replies go as templates only. */
  windowClosed: boolean;
  canSend: boolean;
  canNote: boolean;
  canQuickReply: boolean;
  onSent(m: Message): void;
  onNoted(n: Note): void;
  /** Called with true while composing (at most every few seconds) and false when it stops. */
  onTyping(isTyping: boolean): void;
}

/** How often "still typing" is repeated, and how long a pause ends it. */
const TYPING_EVERY_MS = 3000;

/** The box under the thread. */
export function Composer({ conversation, windowClosed, canSend, canNote, canQuickReply, onSent, onNoted, onTyping }: Props) {
  const { t } = useI18n();
  const conversationId = conversation.id;
  const modes: [Mode, StringKey][] = [
    ...(canSend ? [['reply', 'reply'] as [Mode, StringKey]] : []),
    ...(canNote ? [['note', 'note'] as [Mode, StringKey]] : []),
  ];
  const [mode, setMode] = useState<Mode>(canSend ? 'reply' : 'note');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [suggestions, setSuggestions] = useState<QuickReply[]>([]);
  const key = useRef(randomId());
  // Set in the click itself: a second click before the next render finds it already taken.
  const busy = useRef(false);
  const typingSince = useRef(0);
  const typingEnd = useRef<ReturnType<typeof setTimeout> | null>(null);

  const stopTyping = () => {
    if (typingEnd.current) clearTimeout(typingEnd.current);
    typingEnd.current = null;
    if (typingSince.current) onTyping(false);
    typingSince.current = 0;
  };
  useEffect(() => stopTyping, []);

  const compose = (value: string) => {
    setText(value);
    if (mode !== 'reply' || !value.trim()) return stopTyping();
    if (Date.now() - typingSince.current > TYPING_EVERY_MS) {
      typingSince.current = Date.now();
      onTyping(true);
    }
    if (typingEnd.current) clearTimeout(typingEnd.current);
    typingEnd.current = setTimeout(stopTyping, TYPING_EVERY_MS);
  };

  // `/word` at the start offers the quick replies whose shortcut, title or content matches.
  const shortcut = canQuickReply ? shortcutQuery(text) : null;
  useEffect(() => {
    if (shortcut === null) return setSuggestions([]);
    let live = true;
    const timer = setTimeout(() => {
      api<Page<QuickReply>>('GET', `/api/quick-replies${query({ q: shortcut || undefined, limit: 8 })}`)
        .then((res) => live && setSuggestions(res.data))
        .catch(() => live && setSuggestions([]));
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [shortcut]);

  // Recording the use also answers the content with this conversation's variables filled
  // (`{{contact.name}}`, ...), by the server's own rules; without it the raw content goes in.
  const choose = async (qr: QuickReply) => {
    setSuggestions([]);
    const used = await api<{ rendered_content: string | null }>('POST', `/api/quick-replies/${qr.id}/use`, { conversation_id: conversationId }).catch(() => null);
    compose(used?.rendered_content ?? qr.content);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body || busy.current) return;
    busy.current = true;
    setSending(true);
    setError(null);
    stopTyping();
    try {
      if (mode === 'reply') {
        onSent(await api<Message>('POST', `/api/conversations/${conversationId}/messages`, { type: 'text', text: body, idempotency_key: key.current }));
      } else {
        onNoted(await api<Note>('POST', `/api/conversations/${conversationId}/notes`, { body }));
      }
      // What was typed while it was sending stays.
      setText((now) => (now.trim() === body ? '' : now));
      key.current = randomId();
    } catch (err) {
      // The key stays: sending again is a retry of the same message.
      setError(`${t('sendFailed')}: ${(err as Error).message}`);
    } finally {
      busy.current = false;
      setSending(false);
    }
  };

  const closed = mode === 'reply' && windowClosed;
  return (
    <form class={`composer composer-${mode}`} onSubmit={submit}>
      <Tabs<Mode> options={modes} value={mode} onChange={(m) => setMode(m)} />
      {closed ? (
        <div class="window-closed" data-testid="window-closed">
          <p>{t('windowClosed')}</p>
          <Templates conversationId={conversationId} onSent={onSent} />
        </div>
      ) : (
        <>
          {suggestions.length > 0 && (
            <ul class="quick-replies" role="listbox" aria-label={t('quickReplies')}>
              {suggestions.map((qr) => (
                <li key={qr.id}>
                  <button type="button" role="option" aria-selected="false" onClick={() => void choose(qr)}>
                    <strong>/{qr.shortcut}</strong> {qr.title}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <textarea
            value={text}
            placeholder={mode === 'reply' ? t('replyPlaceholder') : t('notePlaceholder')}
            aria-label={mode === 'reply' ? t('reply') : t('note')}
            onInput={(e) => compose(e.currentTarget.value)}
            onKeyDown={(e) => {
              const first = suggestions[0];
              if (e.key === 'Enter' && !e.shiftKey && first) {
                e.preventDefault();
                void choose(first);
              } else if (e.key === 'Escape' && first) setSuggestions([]);
              else if (e.key === 'Enter' && !e.shiftKey) void submit(e);
            }}
          />
          {error && <p class="error">{error}</p>}
          <button type="submit" class="primary" disabled={sending || !text.trim()}>
            {mode === 'reply' ? t('send') : t('addNote')}
          </button>
        </>
      )}
    </form>
  );
}
