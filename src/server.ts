/** Boots one server process: database, Redis, storage, HTTP. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import type { Config } from './config.js';
import { setAppContext } from './context.js';
import { connectDatabase } from './db.js';
import { createApp } from './http/app.js';
import { logger } from './logger.js';
import { createStorage } from './storage/index.js';

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Connects everything and listens on config.port (0 picks a free port). */
export async function startServer(config: Config): Promise<RunningServer> {
  await connectDatabase(config.mongodbUri);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
  const storage = createStorage(config.storage);
  setAppContext({ config, redis, storage });

  const app = createApp(config);
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, 'OmniStream listening');

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      redis.disconnect();
      await mongoose.disconnect();
      setAppContext(null);
    },
  };
}
