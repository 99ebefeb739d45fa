/** The signed-in shell: header (organization, link state, working hours, presence, language, sign-out), the panel rail and the current panel. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useI18n, type Lang } from '../i18n';
import { Realtime, type LinkState } from '../realtime';
import type { Me } from '../types';
import { PANELS } from './panels';
import { PresenceToggle, WorkingHours } from './presence';

interface Props {
  me: Me;
  onLang(lang: Lang): void;
  onSignOut(): void;
}

/** The console. */
export function Console({ me, onLang, onSignOut }: Props) {
  const { t, lang } = useI18n();
  const realtime = useMemo(() => new Realtime(), []);
  const [link, setLink] = useState<LinkState>('connecting');
  const [ready, setReady] = useState(false);
  const permissions = useMemo(() => new Set(me.permissions), [me]);
  const panels = PANELS.filter((p) => !p.permission || permissions.has(p.permission));
  const [panelId, setPanelId] = useState(panels[0]?.id ?? 'inbox');
  const panel = panels.find((p) => p.id === panelId);

  useEffect(() => {
    const stop = realtime.onState((s) => {
      setLink(s);
      // Lists load once the socket is set up, or without it when it cannot connect.
      setReady(true);
    });
    realtime.start();
    return () => {
      stop();
      realtime.stop();
    };
  }, [realtime]);

  const Panel = panel?.component;
  return (
    <div class="console">
      <header class="topbar">
        <strong class="brand">{t('appName')}</strong>
        <span class="tenant">{me.tenant.name}</span>
        <span class={`link link-${link}`} data-testid="link-state" data-state={link}>
          {link === 'live' ? t('connected') : t('reconnecting')}
        </span>
        <WorkingHours />
        <span class="spacer" />
        <PresenceToggle me={me.agent} realtime={realtime} />
        <label>
          {t('language')}{' '}
          <select value={lang} onChange={(e) => onLang(e.currentTarget.value as Lang)}>
            <option value="id">Bahasa Indonesia</option>
            <option value="en">English</option>
          </select>
        </label>
        <span class="me">{me.agent.name}</span>
        <button onClick={onSignOut}>{t('signOut')}</button>
      </header>
      <nav class="rail">
        {panels.map((p) => (
          <button key={p.id} class={p.id === panelId ? 'active' : ''} disabled={!p.component} title={p.component ? t(p.label) : `${t(p.label)} · ${t('comingSoon')}`} onClick={() => setPanelId(p.id)}>
            <span aria-hidden="true">{p.icon}</span>
            <small>{t(p.label)}</small>
          </button>
        ))}
      </nav>
      <main class="panel">{Panel ? <Panel me={me.agent} permissions={permissions} realtime={realtime} ready={ready} /> : null}</main>
    </div>
  );
}
