/** Entry point: `tsx src/main.ts`. Configuration comes from the environment (see README). */
import { parseConfig } from './config.js';
import { logger } from './logger.js';
import { startServer } from './server.js';

let config;
try {
  config = parseConfig(process.env);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

const server = await startServer(config);
const stop = async () => {
  logger.info('shutting down');
  await server.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
