/**
 * The header's presence: the agent's online/offline toggle (PATCH /api/agents/{id}/status, kept
 * in step with other tabs by agent.status_changed) and the tenant's working-hours state
 * (GET /api/working-hours/status, asked again when `next_change_at` comes).
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { localeOf, useI18n } from '../i18n';
import type { Realtime } from '../realtime';
import type { Agent, WorkingHoursStatus } from '../types';

/** The online/offline switch of the signed-in agent. */
export function PresenceToggle({ me, realtime }: { me: Agent; realtime: Realtime }) {
  const { t } = useI18n();
  const [status, setStatus] = useState(me.status);
  const [busy, setBusy] = useState(false);

  useEffect(
    () =>
      realtime.subscribe((e) => {
        const a = e.data as Partial<Agent>;
        if (e.event === 'agent.status_changed' && a.id === me.id && typeof a.status === 'string') setStatus(a.status);
      }),
    [realtime, me.id],
  );

  const toggle = async () => {
    setBusy(true);
    try {
      const a = await api<Agent>('PATCH', `/api/agents/${me.id}/status`, { status: status === 'online' ? 'offline' : 'online' });
      setStatus(a.status);
    } catch {
      // The switch keeps showing what the server has.
    } finally {
      setBusy(false);
    }
  };

  const online = status === 'online';
  return (
    <button class={`presence presence-${status}`} role="switch" aria-checked={online} data-testid="presence" data-status={status} disabled={busy} onClick={() => void toggle()}>
      {online ? t('online') : t('offline')}
    </button>
  );
}

/** Whether the business is within its working hours now. */
export function WorkingHours() {
  const { t, lang } = useI18n();
  const [state, setState] = useState<WorkingHoursStatus | null>(null);
  const [asks, setAsks] = useState(0);

  useEffect(() => {
    api<WorkingHoursStatus>('GET', '/api/working-hours/status')
      .then(setState)
      .catch(() => setState(null));
  }, [asks]);

  useEffect(() => {
    if (!state?.next_change_at) return;
    // A timer longer than ~24.8 days overflows; a day is plenty, it asks again then.
    const ms = Math.min(Math.max(Date.parse(state.next_change_at) - Date.now(), 0) + 1000, 86_400_000);
    const timer = setTimeout(() => setAsks((n) => n + 1), ms);
    return () => clearTimeout(timer);
  }, [state]);

  if (!state) return null;
  const until = state.next_change_at ? new Date(state.next_change_at).toLocaleString(localeOf(lang), { weekday: 'short', hour: '2-digit', minute: '2-digit' }) : null;
  return (
    <span class={`hours hours-${state.is_working_hours ? 'open' : 'closed'}`} data-testid="working-hours" data-open={String(state.is_working_hours)} title={state.timezone}>
      {state.is_working_hours ? t('withinHours') : t('outsideHours')}
      {until ? ` · ${t('until')} ${until}` : ''}
    </span>
  );
}
