/** The app: the login until a session exists, then the console, in the tenant's language. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { whenUnauthorized } from './api';
import { Console } from './console/console';
import { defaultLang, I18n, rememberLang, translator, type Lang } from './i18n';
import { Login } from './login';
import { currentSession, signOut } from './session';
import type { Me } from './types';

/** The root component. */
export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [lang, setLang] = useState<Lang>(() => defaultLang(null));
  const i18n = useMemo(() => ({ lang, t: translator(lang) }), [lang]);

  const enter = (next: Me | null) => {
    setMe(next);
    if (next) setLang(defaultLang(next.tenant.timezone));
  };

  useEffect(() => {
    whenUnauthorized(() => setMe(null));
    currentSession().then(enter, () => setMe(null));
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  return (
    <I18n.Provider value={i18n}>
      {me === undefined ? null : me ? (
        <Console
          me={me}
          onLang={(l) => {
            rememberLang(l);
            setLang(l);
          }}
          onSignOut={() => void signOut().then(() => setMe(null))}
        />
      ) : (
        <Login onSignedIn={enter} />
      )}
    </I18n.Provider>
  );
}
