/** The app: the login until a session exists, then the console, in the tenant's language. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { whenUnauthorized } from './api';
import { Console } from './console/console';
import { defaultLang, I18n, rememberLang, translator, type Lang } from './i18n';
import { Login } from './login';
import { currentSession, signOut, socketToken } from './session';
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
    // A 401 can be a request sent with a token another tab had just rotated: the cookie may
    // already hold a newer one, so the login shows only if the session itself is gone.
    whenUnauthorized(() => void currentSession().then((still) => still || setMe(null), () => setMe(null)));
    // After a reload the socket's token is fetched (and rotated) before anything else is asked,
    // so no request of this page races the rotation with the cookie it replaces.
    currentSession()
      .then(async (found) => {
        if (found) await socketToken();
        enter(found);
      })
      .catch(() => setMe(null));
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
