/** Health: dependency checks for load balancers and monitoring. */
import { z } from 'zod';
import { checkHealth } from '../../services/health.js';
import type { RouteGroup } from '../mount.js';
import { HttpResult } from '../result.js';
import { route } from '../route.js';

const Dependency = z.object({
  status: z.enum(['up', 'down']),
  latency_ms: z.number(),
  error: z.string().optional(),
});

/** The health answer; the super-admin health check extends its checks. */
export const HealthBody = z.object({
  status: z.enum(['ok', 'degraded']),
  uptime_seconds: z.number(),
  checks: z.object({ db: Dependency, redis: Dependency, storage: Dependency.extend({ driver: z.enum(['local', 's3']) }) }),
});

/** The Health group. */
export const healthRoutes: RouteGroup = {
  group: 'Health',
  routes: [
    route({
      method: 'get',
      path: '/api/health',
      summary: 'API Gateway health check',
      description: 'Pings the database, Redis and media storage. 200 when all are up, 503 when any is down.',
      access: 'public',
      response: HealthBody,
      handler: async () => {
        const health = await checkHealth();
        const body = { status: health.status, uptime_seconds: Math.round(process.uptime()), checks: health.checks };
        return new HttpResult(health.status === 'ok' ? 200 : 503, body);
      },
    }),
  ],
};
