/** Entry point: `tsx src/main.ts`. Configuration comes from the environment (see README). */
import { parseConfig, type Config } from './config.js';
import { logger } from './logger.js';
import { startServer, type RunningServer } from './server.js';

/** Parses the environment (exiting with the list of bad variables) and starts the server. */
export async function boot(): Promise<RunningServer> {
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  // A promise rejected with no handler is a bug to log, not a reason to drop every connection
  // and in-flight change of this process (Node's default is to exit).
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  const server = await startServer(config);
  const stop = async () => {
    logger.info('shutting down');
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

// Run when executed directly (scripts/local.ts imports boot instead).
if (import.meta.url === `file://${process.argv[1]}`) await boot();
