/** Boots one server process: database, Redis, storage, HTTP. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { ActorSystem } from '../actors/runtime.js';
import { startJobs } from '../jobs/index.js';
import { contactActor } from '../actors/contact/index.js';
import { conversationActor } from '../actors/conversation/index.js';
import { tenantActor } from '../actors/tenant/index.js';
import type { Config } from './config.js';
import { setAppContext } from './context.js';
import { connectDatabase } from './db.js';
import { createApp } from './http/app.js';
import { logger } from './logger.js';
import { EventBus } from './events/bus.js';
import { DurableListeners } from './events/listener-runner.js';
import { DURABLE_LISTENERS } from './events/listeners/index.js';
import { attachRealtime, type RealtimeGateway } from './realtime/gateway.js';
import { attachWebchat } from './realtime/webchat.js';
import { recoverDueWebhooks } from './services/inbound.js';
import { countSocketsOf } from './services/metrics-collectors.js';
import { startHeartbeat } from './services/process-heartbeat.js';
import { stopAutomationWorker } from './services/automation-worker.js';
import { stopOutgoingWebhookSender } from './services/outgoing-webhook-sender.js';
import { startSearchBackfill } from './services/search-backfill.js';
import { watchSharedCaches } from './services/shared-cache.js';
import { WebhookWorker } from './services/webhook-worker.js';
import { createStorage } from './storage/index.js';


/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  /** Its Socket.IO gateway. */
  realtime: RealtimeGateway;
  close(): Promise<void>;
}

/** Connects everything and listens on config.port (0 picks a free port). */
export async function startServer(config: Config): Promise<RunningServer> {
  logger.level = config.logLevel;
  await connectDatabase(config.mongodbUri);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
  const storage = createStorage(config.storage);
  const actors = new ActorSystem({ redisUrl: config.redisUrl, leaseMs: config.actorLeaseMs, idleMs: config.actorIdleMs });
  actors.register(tenantActor);
  actors.register(conversationActor);
  actors.register(contactActor);
  await actors.start();
  const webhooks = new WebhookWorker(config.webhooks.concurrency);
  const listeners = new DurableListeners(redis, actors.processId, DURABLE_LISTENERS);
  setAppContext({ config, redis, storage, actors, webhooks, listeners });
  const bus = await EventBus.start(config.redisUrl, listeners);

  const app = createApp(config);
  const server = http.createServer(app.callback());
  const realtime = await attachRealtime(server, config.redisUrl, config.realtimeReplayLimit, bus);
  // The website chat widget's namespace, on the same Socket.IO server and Redis adapter.
  const webchat = attachWebchat(realtime.io);
  const stopCountingSockets = countSocketsOf(realtime.io);
  const stopWatchingCaches = await watchSharedCaches(config.redisUrl);
  // The platform's health check counts live processes and their sockets from these beats.
  const stopHeartbeat = startHeartbeat(redis, actors.processId, () => realtime.census().sockets);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, 'OmniStream listening');

  // Deliveries stored but not processed (a crash, a failed try) are taken up at once after a
  // restart, then by the recovery job in whichever process holds its lock.
  void recoverDueWebhooks((stored) => webhooks.run({ stored })).catch((err: unknown) => logger.error({ err }, 'webhook recovery failed'));
  const jobs = await startJobs(mongoose.connection.db as mongoose.mongo.Db);
  // Documents stored before the folded search copies existed get them in the background.
  const searchBackfill = startSearchBackfill();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    realtime,
    async close() {
      await stopHeartbeat();
      await searchBackfill.stop();
      await jobs.stop();
      stopCountingSockets();
      webchat.close();
      await realtime.close();
      stopWatchingCaches();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await webhooks.stop();
      await bus.close();
      await listeners.close();
      await stopOutgoingWebhookSender();
      await stopAutomationWorker();
      await actors.stop();
      redis.disconnect();
      await mongoose.disconnect();
      setAppContext(null);
    },
  };
}
