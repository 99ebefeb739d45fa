/**
 * What Meta tells us about an account, as it leaves the API: a Page's persistent menu (with its
 * Get Started button) and a
 * WhatsApp number's health. Each field is read out by name, so nothing else of Meta's answer
 * (a token, an unknown field) ever passes through.
 */
import type { IntegrationAccount } from '../models/integration-account.js';

type Json = Record<string, unknown>;

const asRecord = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const textOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** One call to action of a persistent menu. */
export interface MenuItem {
  type: 'postback' | 'web_url';
  title: string;
  payload?: string | undefined;
  url?: string | undefined;
  webview_height_ratio?: 'compact' | 'tall' | 'full' | undefined;
}

/** One locale's persistent menu. */
export interface MenuLocale {
  locale: string;
  composer_input_disabled: boolean;
  call_to_actions: MenuItem[];
}

function presentMenuItem(raw: unknown): MenuItem {
  const i = asRecord(raw);
  const ratio = text(i.webview_height_ratio);
  return {
    type: i.type === 'web_url' ? 'web_url' : 'postback',
    title: text(i.title) ?? '',
    ...(text(i.payload) !== undefined ? { payload: text(i.payload) } : {}),
    ...(text(i.url) !== undefined ? { url: text(i.url) } : {}),
    ...(ratio === 'compact' || ratio === 'tall' || ratio === 'full' ? { webview_height_ratio: ratio } : {}),
  };
}

/** The payload of Meta's `get_started` (`{ payload }`), or null when the Page has no Get Started button. */
export const getStartedPayload = (raw: unknown): string | null => textOrNull(asRecord(raw).payload);

/**
 * A Page's persistent menu (Meta's `persistent_menu`, or the one just set) and its Get Started
 * button (`get_started`); each null when there is none.
 */
export function presentPersistentMenu(account: IntegrationAccount, raw: unknown, getStarted: unknown) {
  const payload = getStartedPayload(getStarted);
  const menu = list(raw).map((entry): MenuLocale => {
    const e = asRecord(entry);
    return { locale: text(e.locale) ?? 'default', composer_input_disabled: e.composer_input_disabled === true, call_to_actions: list(e.call_to_actions).map(presentMenuItem) };
  });
  return { page_id: account.external_id, account_id: account._id, persistent_menu: menu.length > 0 ? menu : null, get_started: payload === null ? null : { payload } };
}

/** One entity's sending ability (number, WABA, business, app) and the errors that limit it. */
function presentHealthEntity(raw: unknown) {
  const e = asRecord(raw);
  return {
    entity_type: textOrNull(e.entity_type),
    id: textOrNull(e.id),
    can_send_message: textOrNull(e.can_send_message),
    errors: list(e.errors).map((x) => {
      const err = asRecord(x);
      return { error_code: typeof err.error_code === 'number' ? err.error_code : null, error_description: textOrNull(err.error_description), possible_solution: textOrNull(err.possible_solution) };
    }),
  };
}

/** A WhatsApp number's health from Meta's phone-number node, read at `checkedAt`. */
export function presentWhatsAppHealth(account: IntegrationAccount, node: Json, checkedAt: Date) {
  const health = node.health_status === undefined || node.health_status === null ? null : asRecord(node.health_status);
  return {
    account_id: account._id,
    phone_number_id: account.external_id,
    waba_id: account.settings.waba_id ?? null,
    display_phone_number: textOrNull(node.display_phone_number) ?? account.display,
    verified_name: textOrNull(node.verified_name),
    quality_rating: textOrNull(node.quality_rating),
    messaging_limit_tier: textOrNull(node.messaging_limit_tier),
    throughput_level: textOrNull(asRecord(node.throughput).level),
    health_status: health ? { can_send_message: textOrNull(health.can_send_message), entities: list(health.entities).map(presentHealthEntity) } : null,
    checked_at: checkedAt.toISOString(),
  };
}
