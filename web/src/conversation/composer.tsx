/**
 * Reply or private note. A reply carries one idempotency key per composed message: the key is
 * made when composing starts and kept until the server has the message, so a double click, a
 * retry after a timeout or a second tab's replay sends it once (POST answers 200 for a replay).
 */
import { useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { useI18n, type StringKey } from '../i18n';
import { randomId } from '../ids';
import { Tabs } from '../tabs';
import type { Message, Note } from '../types';

type Mode = 'reply' | 'note';

interface Props {
  conversationId: string;
  canSend: boolean;
  canNote: boolean;
  onSent(m: Message): void;
  onNoted(n: Note): void;
}

/** The box under the thread. */
export function Composer({ conversationId, canSend, canNote, onSent, onNoted }: Props) {
  const { t } = useI18n();
  const modes: [Mode, StringKey][] = [
    ...(canSend ? [['reply', 'reply'] as [Mode, StringKey]] : []),
    ...(canNote ? [['note', 'note'] as [Mode, StringKey]] : []),
  ];
  const [mode, setMode] = useState<Mode>(canSend ? 'reply' : 'note');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const key = useRef(randomId());
  // Set in the click itself: a second click before the next render finds it already taken.
  const busy = useRef(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body || busy.current) return;
    busy.current = true;
    setSending(true);
    setError(null);
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

  return (
    <form class={`composer composer-${mode}`} onSubmit={submit}>
      <Tabs<Mode> options={modes} value={mode} onChange={(m) => setMode(m)} />
      <textarea
        value={text}
        placeholder={mode === 'reply' ? t('replyPlaceholder') : t('notePlaceholder')}
        aria-label={mode === 'reply' ? t('reply') : t('note')}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) void submit(e);
        }}
      />
      {error && <p class="error">{error}</p>}
      <button type="submit" class="primary" disabled={sending || !text.trim()}>
        {mode === 'reply' ? t('send') : t('addNote')}
      </button>
    </form>
  );
}
