/** The inbox panel: the list beside the open conversation; the open one is in the URL (/app/conversations/<id>). */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api';
import { ConversationView } from '../conversation/conversation';
import { useI18n } from '../i18n';
import { Inbox } from '../inbox/inbox';
import type { Agent, Contact, Division, Page } from '../types';
import type { PanelProps } from './panels';

const PREFIX = '/app/conversations/';

const openFromUrl = () => (location.pathname.startsWith(PREFIX) ? decodeURIComponent(location.pathname.slice(PREFIX.length)) || null : null);

/** The inbox and the conversation view. */
export function InboxPanel({ me, permissions, realtime, ready }: PanelProps) {
  const { t } = useI18n();
  const [selected, setSelected] = useState<string | null>(openFromUrl);
  const [agents, setAgents] = useState<Agent[]>([]);
  const [divisions, setDivisions] = useState<Division[]>([]);
  // The contact last renamed in the conversation view, so the list shows the new name too.
  const [renamed, setRenamed] = useState<Contact | null>(null);

  useEffect(() => {
    const onPop = () => setSelected(openFromUrl());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    if (permissions.has('agents.view')) {
      api<Page<Agent>>('GET', `/api/agents${query({ limit: 100 })}`)
        .then((res) => setAgents(res.data))
        .catch(() => setAgents([]));
    }
    if (!permissions.has('divisions.view')) return;
    api<Page<Division>>('GET', `/api/divisions${query({ limit: 100 })}`)
      .then((res) => setDivisions(res.data))
      .catch(() => setDivisions([]));
  }, [permissions]);

  const select = (id: string) => {
    history.pushState(null, '', `${PREFIX}${encodeURIComponent(id)}`);
    setSelected(id);
  };

  return (
    <div class="inbox-panel">
      <Inbox meId={me.id} realtime={realtime} ready={ready} divisions={divisions} renamed={renamed} selectedId={selected} onSelect={select} />
      {selected ? (
        <ConversationView key={selected} id={selected} me={me} permissions={permissions} agents={agents} divisions={divisions} realtime={realtime} onContactRenamed={setRenamed} />
      ) : (
        <section class="conversation empty">{t('selectConversation')}</section>
      )}
    </div>
  );
}
