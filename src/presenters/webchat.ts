/** Shapes the website chat widget's settings (for admins) and its session (for visitors). */
import { z } from 'zod';
import type { WebchatSettings } from '../models/webchat-settings.js';
import type { WorkingHoursState } from '../services/working-hours-status.js';
import { presentWorkingHoursStatus, WorkingHoursStatusBody } from './working-hours.js';

/** A tenant's widget settings with the snippet to paste into its pages. */
export const WebchatSettingsBody = z.object({
  enabled: z.boolean().describe('false: the widget shows nothing and visitors are refused (403 webchat_disabled)'),
  allowed_origins: z.array(z.string()).describe('Origins (`https://shop.example`) whose pages may run the widget; others are refused (403 origin_not_allowed)'),
  welcome_text: z.string(),
  brand_color: z.string().nullable().describe('`#rrggbb`; null: the default colour'),
  snippet: z.string().describe('The tag to paste into a page: `<script src="<PUBLIC_URL>/widget.js" data-tenant="<slug>" async></script>`'),
  updated_at: z.iso.datetime().nullable().describe('null: never saved (the defaults shown)'),
});

/** What a visitor's widget starts with. */
export const WebchatSessionBody = z.object({
  visitor_token: z.string().describe('Signed; the widget keeps it in localStorage and sends it on every connection, naming this visitor only'),
  visitor_id: z.string(),
  welcome_text: z.string(),
  brand_color: z.string().nullable(),
  working_hours: WorkingHoursStatusBody,
  socket: z.object({ namespace: z.string(), path: z.string() }).describe('Where the widget connects (Socket.IO, `auth: { token: visitor_token }`)'),
});

/** The settings a tenant has never saved: off, no origins. */
export const DEFAULT_WEBCHAT = { enabled: false, allowed_origins: [] as string[], welcome_text: 'Hi! How can we help you today?', brand_color: null } as const;

/** The snippet that embeds the widget for a tenant. */
export const webchatSnippet = (baseUrl: string, tenantSlug: string): string => `<script src="${baseUrl}/widget.js" data-tenant="${tenantSlug}" async></script>`;

/** Shapes stored (or default) settings. */
export function presentWebchatSettings(doc: WebchatSettings | null, snippet: string): z.infer<typeof WebchatSettingsBody> {
  const s = doc ?? DEFAULT_WEBCHAT;
  return {
    enabled: s.enabled,
    allowed_origins: [...s.allowed_origins],
    welcome_text: s.welcome_text,
    brand_color: s.brand_color,
    snippet,
    updated_at: doc ? doc.updated_at.toISOString() : null,
  };
}

/** Shapes a visitor's session. */
export function presentWebchatSession(
  session: { token: string; visitorId: string; settings: Pick<WebchatSettings, 'welcome_text' | 'brand_color'>; workingHours: WorkingHoursState },
): z.infer<typeof WebchatSessionBody> {
  return {
    visitor_token: session.token,
    visitor_id: session.visitorId,
    welcome_text: session.settings.welcome_text,
    brand_color: session.settings.brand_color,
    working_hours: presentWorkingHoursStatus(session.workingHours),
    socket: { namespace: '/webchat', path: '/socket.io' },
  };
}
