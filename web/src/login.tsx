/**
 * Sign-in with the cookie session. When the e-mail belongs to several organizations the API
 * answers `tenant_required` (only after the password matched, and without naming them), so the
 * form then asks which one: organizations this browser signed in to before, or a typed slug.
 */
import { useState } from 'preact/hooks';
import { useI18n } from './i18n';
import { knownOrganizations, signIn } from './session';
import type { Me } from './types';

/** The login form. */
export function Login({ onSignedIn }: { onSignedIn(me: Me): void }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [tenant, setTenant] = useState('');
  const [askTenant, setAskTenant] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event, chosen = tenant) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await signIn(email, password, askTenant ? chosen.trim() || undefined : undefined);
      if (r.ok) return onSignedIn(r.me);
      if (r.tenantRequired && !askTenant) setAskTenant(true);
      else setError(`${t('loginFailed')}: ${r.message}`);
    } catch (err) {
      setError(`${t('loginFailed')}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form onSubmit={(e) => submit(e)}>
        <h1>{t('appName')}</h1>
        <label>
          {t('email')}
          <input type="email" name="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          {t('password')}
          <input type="password" name="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {askTenant && (
          <fieldset class="tenant-picker">
            <legend>{t('severalOrganizations')}</legend>
            {knownOrganizations().map((o) => (
              <button key={o.slug} type="button" disabled={busy} onClick={(e) => submit(e, o.slug)}>
                {o.name} <small>({o.slug})</small>
              </button>
            ))}
            <label>
              {t('organization')}
              <input name="tenant" value={tenant} onInput={(e) => setTenant(e.currentTarget.value)} />
            </label>
          </fieldset>
        )}
        {error && <p class="error">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>
          {t('signIn')}
        </button>
      </form>
    </main>
  );
}
