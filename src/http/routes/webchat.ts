/**
 * Website chat widget (webchat): the tenant's settings and snippet, and the visitor's session
 * start (public, called cross-origin by widget.js; see src/http/middleware/webchat-cors.ts). The
 * widget itself and the demo page are served by src/http/widget.ts; visitors then talk over the
 * `/webchat` Socket.IO namespace (src/realtime/webchat.ts).
 */
import type { Context } from 'koa';
import { appContext } from '../../context.js';
import { presentWebchatSession, WebchatSessionBody, WebchatSettingsBody } from '../../presenters/webchat.js';
import { getWebchatSettings, updateWebchatSettings } from '../../services/webchat-settings.js';
import { startVisitorSession } from '../../services/webchat-visitors.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { StartWebchatSessionBody, UpdateWebchatBody } from './webchat.schema.js';

/** Where pages load widget.js from: PUBLIC_URL, else this request's own origin. */
const baseUrlOf = (ctx: Context): string => appContext().config.publicUrl ?? `${ctx.protocol}://${ctx.host}`;

/** The webchat group. */
export const webchatRoutes: RouteGroup = {
  group: 'Webchat',
  routes: [
    route({
      method: 'get',
      path: '/api/webchat/settings',
      summary: 'Get website chat widget settings',
      description: 'The widget settings (defaults, `enabled: false`, until first saved) and the `<script>` snippet to paste into the site.',
      access: 'settings.manage',
      response: WebchatSettingsBody,
      handler: ({ principal, ctx }) => getWebchatSettings({ tenantId: principal.tenantId, actor: principal, baseUrl: baseUrlOf(ctx) }),
    }),
    route({
      method: 'put',
      path: '/api/webchat/settings',
      summary: 'Update website chat widget settings',
      description:
        'Replaces the settings. Enabling also sets up the `webchat` integration and its account, so visitor messages land in the inbox ' +
        'and agent replies (POST /api/conversations/{id}/messages) reach the visitor’s widget live; disabling refuses visitors and sends.',
      access: 'settings.manage',
      body: UpdateWebchatBody,
      response: WebchatSettingsBody,
      audit: { action: 'settings.webchat_updated', resource: 'settings', target: () => null },
      handler: ({ principal, body, ctx }) =>
        updateWebchatSettings({
          tenantId: principal.tenantId,
          actor: principal,
          baseUrl: baseUrlOf(ctx),
          enabled: body.enabled,
          allowedOrigins: body.allowed_origins,
          welcomeText: body.welcome_text,
          brandColor: body.brand_color,
        }),
    }),
    route({
      method: 'post',
      path: '/api/webchat/sessions',
      summary: 'Start a website chat visitor session (public)',
      description:
        'Called by widget.js from the tenant’s site: the `Origin` header must be one of the tenant’s `allowed_origins`. Answers a signed ' +
        '`visitor_token` (kept in localStorage; sending it back resumes the same visitor and conversation), the greeting, colour and the ' +
        'working-hours state. Then connect to the `/webchat` Socket.IO namespace with `auth: { token: visitor_token }`.',
      access: 'public',
      body: StartWebchatSessionBody,
      response: WebchatSessionBody,
      errors: {
        403: '`webchat_disabled`: the widget is turned off; `origin_not_allowed`: the page’s origin is not in allowed_origins',
        404: 'No active organization with this id or slug',
        429: 'Too many sessions started from this address (RATE_LIMIT_WEBCHAT_SESSION_IP)',
      },
      limits: [{ limit: 'webchatSessionIp', key: ({ ctx }) => ctx.ip || null }],
      audit: 'none', // a visitor opening a page, not a change to the organization's data
      handler: async ({ body, ctx }) =>
        presentWebchatSession(await startVisitorSession({ tenant: body.tenant, origin: ctx.get('origin') || undefined, visitorToken: body.visitor_token })),
    }),
  ],
};
