/** The Koa application: error rendering, body parsing, the API routes, OpenAPI and docs, metrics. */
import Koa from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import type { Config } from '../config.js';
import { consoleRouter } from './console.js';
import { docsRouter } from './docs.js';
import { renderErrors } from './middleware/errors.js';
import { answerOtherMethods } from './middleware/methods.js';
import { rawBodyFor } from './middleware/raw-body.js';
import { securityHeaders } from './middleware/security-headers.js';
import { recordRequestMetrics } from './middleware/request-metrics.js';
import { webchatCors } from './middleware/webchat-cors.js';
import { metricsRouter } from './metrics.js';
import { mountRoutes } from './mount.js';
import { buildOpenApi } from './openapi.js';
import { apiGroups } from './routes/index.js';
import { widgetRouter } from './widget.js';

/** Builds the app; `config` sets body limits and proxy trust. */
export function createApp(config: Config): Koa {
  // Only the entries our own proxies appended are believed: a client may send any X-Forwarded-For.
  const app = new Koa({ proxy: config.trustProxyHops > 0, maxIpsCount: config.trustProxyHops });
  const openapi = buildOpenApi(apiGroups);
  const api = mountRoutes(apiGroups, config.env === 'test');
  api.get('/api/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  const docs = docsRouter();
  const widget = widgetRouter();
  const agentConsole = consoleRouter();
  const metrics = metricsRouter(config.metricsToken);

  app.use(recordRequestMetrics);
  app.use(securityHeaders);
  app.use(renderErrors);
  app.use(webchatCors);
  app.use(answerOtherMethods([api, docs, widget, agentConsole, metrics]));
  // E-mails carry attachments; Meta's JSON stays small, and a smaller bound keeps its full parse
  // (after verification) short.
  app.use(rawBodyFor('/api/webhooks/', (path) => (path.startsWith('/api/webhooks/email') ? config.webhookBodyLimitKb : config.metaWebhookBodyLimitKb) * 1024));
  const parseBody = koaBody({
    jsonLimit: `${config.bodyLimitKb}kb`,
    formLimit: `${config.bodyLimitKb}kb`,
    textLimit: `${config.bodyLimitKb}kb`,
    jsonStrict: true,
    multipart: false,
    // DELETE too: removing agents from a division names them in the body.
    parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE],
  });
  // Webhook bodies were already read raw by rawBodyFor.
  app.use((ctx, next) => (ctx.state.rawBody ? next() : parseBody(ctx, next)));

  app.use(api.routes());
  app.use(docs.routes());
  app.use(widget.routes());
  app.use(agentConsole.routes());
  app.use(metrics.routes());
  // Errors are rendered by renderErrors; this keeps Koa from printing them a second time.
  app.silent = true;
  return app;
}
