/**
 * WhatsApp templates, the only messages that go once the 24-hour window is closed: the approved
 * templates without body variables (GET /api/wa-templates), each sent as a template message
 * with its own idempotency key. Without that route (or the permission) only the notice shows.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query } from '../api';
import { useI18n } from '../i18n';
import { randomId } from '../ids';
import type { Message, Page, WaTemplate } from '../types';

/** The template picker. */
export function Templates({ conversationId, onSent }: { conversationId: string; onSent(m: Message): void }) {
  const { t } = useI18n();
  const [templates, setTemplates] = useState<WaTemplate[]>([]);
  const [chosen, setChosen] = useState('');
  const [error, setError] = useState<string | null>(null);
  const key = useRef(randomId());
  const busy = useRef(false);

  useEffect(() => {
    api<Page<WaTemplate>>('GET', `/api/wa-templates${query({ status: 'APPROVED', limit: 100 })}`)
      .then((res) => setTemplates(res.data.filter((x) => x.status === 'APPROVED' && x.body_variables === 0)))
      .catch(() => setTemplates([]));
  }, []);

  const send = async () => {
    const tpl = templates.find((x) => x.id === chosen);
    if (!tpl || busy.current) return;
    busy.current = true;
    setError(null);
    try {
      onSent(await api<Message>('POST', `/api/conversations/${conversationId}/messages`, { type: 'template', template: { name: tpl.name, language: tpl.language }, idempotency_key: key.current }));
      key.current = randomId();
      setChosen('');
    } catch (err) {
      setError(`${t('sendFailed')}: ${(err as Error).message}`);
    } finally {
      busy.current = false;
    }
  };

  if (templates.length === 0) return null;
  return (
    <div class="templates">
      <select aria-label={t('template')} value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
        <option value="">{t('template')}</option>
        {templates.map((x) => (
          <option key={x.id} value={x.id}>
            {x.name} ({x.language})
          </option>
        ))}
      </select>
      <button type="button" class="primary" disabled={!chosen} onClick={() => void send()}>
        {t('sendTemplate')}
      </button>
      {error && <p class="error">{error}</p>}
    </div>
  );
}
