/** Previews of a message's media (`content.media[]`, downloaded through /api/media): images inline, other files as links. */
import { useI18n } from '../i18n';

interface MediaItem {
  url?: string;
  mime_type?: string;
  mimeType?: string;
  filename?: string;
  caption?: string;
}

const itemsOf = (content: Record<string, unknown>): MediaItem[] =>
  Array.isArray(content.media) ? (content.media as unknown[]).filter((m): m is MediaItem => typeof (m as MediaItem | null)?.url === 'string') : [];

/** Whether a message carries media the thread can show. */
export const hasMedia = (content: Record<string, unknown>) => itemsOf(content).length > 0;

/** Only our own media route is shown: the page's CSP loads nothing from another origin. */
const safe = (url: string) => url.startsWith('/api/media/');

/** The media of one message. */
export function Media({ content }: { content: Record<string, unknown> }) {
  const { t } = useI18n();
  const items = itemsOf(content).filter((m) => safe(m.url ?? ''));
  if (items.length === 0) return null;
  return (
    <div class="media">
      {items.map((m) => {
        const mime = m.mime_type ?? m.mimeType ?? '';
        const url = m.url ?? '';
        return mime.startsWith('image/') || /\.(png|jpe?g|gif|webp)$/i.test(url) ? (
          <a key={url} href={url} target="_blank" rel="noopener">
            <img src={url} alt={m.caption ?? m.filename ?? t('image')} loading="lazy" />
          </a>
        ) : (
          <a key={url} class="file" href={url} target="_blank" rel="noopener" download={m.filename}>
            📄 {m.filename ?? t('document')}
          </a>
        );
      })}
    </div>
  );
}
