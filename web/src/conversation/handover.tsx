/**
 * Handing a conversation on: transfer to an agent or a division (POST .../transfer, a reason
 * required) and, for supervisors, takeover (POST .../takeover: the caller becomes the assignee).
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { useI18n } from '../i18n';
import type { Agent, Conversation, Division } from '../types';

interface Props {
  conversation: Conversation;
  me: Agent;
  agents: Agent[];
  divisions: Division[];
  canTransfer: boolean;
  canTakeover: boolean;
  onChanged(c: Conversation): void;
  onError(message: string): void;
}

/** The transfer form and the takeover button. */
export function Handover({ conversation, me, agents, divisions, canTransfer, canTakeover, onChanged, onError }: Props) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState('');
  const [reason, setReason] = useState('');
  const closed = conversation.status === 'closed' || conversation.status === 'expired';
  const base = `/api/conversations/${conversation.id}`;

  const call = async (path: string, body: unknown) => {
    try {
      onChanged(await api<Conversation>('POST', `${base}${path}`, body));
      return true;
    } catch (err) {
      onError((err as Error).message);
      return false;
    }
  };

  const transfer = async (e: Event) => {
    e.preventDefault();
    const [kind, id] = target.split(':');
    if (!id || !reason.trim()) return;
    const ok = await call('/transfer', { [kind === 'agent' ? 'to_agent_id' : 'to_division_id']: id, reason: reason.trim() });
    if (ok) {
      setOpen(false);
      setTarget('');
      setReason('');
    }
  };

  if (closed) return null;
  return (
    <>
      {canTakeover && conversation.assignee_id && conversation.assignee_id !== me.id && (
        <button onClick={() => void call('/takeover', {})}>{t('takeOver')}</button>
      )}
      {canTransfer && (
        <button aria-expanded={open} onClick={() => setOpen(!open)}>
          {t('transfer')}
        </button>
      )}
      {open && (
        <form class="transfer-form" onSubmit={transfer} aria-label={t('transfer')}>
          <select aria-label={t('transferTo')} value={target} required onChange={(e) => setTarget(e.currentTarget.value)}>
            <option value="">{t('transferTo')}</option>
            {agents.length > 0 && (
              <optgroup label={t('agents')}>
                {agents
                  .filter((a) => a.is_active !== false && a.id !== conversation.assignee_id)
                  .map((a) => (
                    <option key={a.id} value={`agent:${a.id}`}>
                      {a.name}
                    </option>
                  ))}
              </optgroup>
            )}
            {divisions.length > 0 && (
              <optgroup label={t('divisions')}>
                {divisions
                  .filter((d) => d.is_active)
                  .map((d) => (
                    <option key={d.id} value={`division:${d.id}`}>
                      {d.name}
                    </option>
                  ))}
              </optgroup>
            )}
          </select>
          <input aria-label={t('reason')} placeholder={t('reason')} value={reason} required onInput={(e) => setReason(e.currentTarget.value)} />
          <button type="submit" class="primary" disabled={!target || !reason.trim()}>
            {t('transfer')}
          </button>
        </form>
      )}
    </>
  );
}
