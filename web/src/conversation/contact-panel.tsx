/** The contact beside the thread: name (editable with contacts.manage), phone, e-mail, channel identity and tags. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { useI18n } from '../i18n';
import type { Contact } from '../types';

interface Props {
  contactId: string;
  /** The conversation's tags, shown next to the contact's. */
  conversationTags: string[];
  canEdit: boolean;
  /** Called with the contact after its name was saved, so the header shows it too. */
  onRenamed(contact: Contact): void;
}

/** The contact panel. */
export function ContactPanel({ contactId, conversationTags, canEdit, onRenamed }: Props) {
  const { t } = useI18n();
  const [contact, setContact] = useState<Contact | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<Contact>('GET', `/api/contacts/${contactId}`)
      .then((c) => {
        setContact(c);
        setName(c.name ?? '');
      })
      .catch((err: Error) => setError(err.message));
  }, [contactId]);

  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const c = await api<Contact>('PATCH', `/api/contacts/${contactId}`, { name: name.trim() || null });
      setContact(c);
      onRenamed(c);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (!contact) return <aside class="contact-panel muted">{error ?? t('loadingMore')}</aside>;
  const tags = [...new Set([...contact.tags, ...conversationTags])];
  return (
    <aside class="contact-panel" aria-label={t('contact')} data-testid="contact-panel">
      <h3>{t('contact')}</h3>
      {canEdit ? (
        <form class="contact-name" onSubmit={save}>
          <input aria-label={t('contactName')} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit" disabled={name.trim() === (contact.name ?? '')}>
            {t('save')}
          </button>
        </form>
      ) : (
        <p>
          <strong>{contact.name ?? t('unknownContact')}</strong>
        </p>
      )}
      <dl>
        {contact.phone && (
          <>
            <dt>{t('phone')}</dt>
            <dd data-testid="contact-phone">+{contact.phone}</dd>
          </>
        )}
        {contact.email && (
          <>
            <dt>{t('email')}</dt>
            <dd>{contact.email}</dd>
          </>
        )}
        <dt>{t('channel')}</dt>
        <dd data-testid="contact-identity">
          {contact.channel} · {contact.external_id}
          {contact.username ? ` · @${contact.username}` : ''}
        </dd>
        {tags.length > 0 && (
          <>
            <dt>{t('tags')}</dt>
            <dd class="tags">
              {tags.map((tag) => (
                <span key={tag} class="tag">
                  #{tag}
                </span>
              ))}
            </dd>
          </>
        )}
      </dl>
      {error && <p class="error">{error}</p>}
    </aside>
  );
}
