/** Boots one server process: database, Redis, storage, HTTP. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { ActorSystem } from '../actors/runtime.js';
import { contactActor } from '../actors/contact/index.js';
import { conversationActor } from '../actors/conversation/index.js';
import { tenantActor } from '../actors/tenant/index.js';
import type { Config } from './config.js';
import { setAppContext } from './context.js';
import { connectDatabase } from './db.js';
import { createApp } from './http/app.js';
import { logger } from './logger.js';
import { attachRealtime } from './realtime/gateway.js';
import { recoverPendingWebhooks } from './services/inbound.js';
import { createStorage } from './storage/index.js';

// A delivery younger than this may still be in its first processing run.
const RECOVERY_AGE_MS = 10_000;
const RECOVERY_INTERVAL_MS = 15_000;

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Connects everything and listens on config.port (0 picks a free port). */
export async function startServer(config: Config): Promise<RunningServer> {
  logger.level = config.logLevel;
  await connectDatabase(config.mongodbUri);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
  const storage = createStorage(config.storage);
  const actors = new ActorSystem({ redisUrl: config.redisUrl, leaseMs: config.actorLeaseMs });
  actors.register(tenantActor);
  actors.register(conversationActor);
  actors.register(contactActor);
  await actors.start();
  setAppContext({ config, redis, storage, actors });

  const app = createApp(config);
  const server = http.createServer(app.callback());
  const realtime = await attachRealtime(server, config.redisUrl, config.realtimeReplayLimit);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, 'OmniStream listening');

  // Deliveries stored but not processed (a crash, a failed try) are picked up again.
  const recover = () =>
    recoverPendingWebhooks(RECOVERY_AGE_MS).catch((err: unknown) => logger.error({ err }, 'webhook recovery failed'));
  void recover();
  const recovery = setInterval(recover, RECOVERY_INTERVAL_MS).unref();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      clearInterval(recovery);
      await realtime.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await actors.stop();
      redis.disconnect();
      await mongoose.disconnect();
      setAppContext(null);
    },
  };
}
