/** Child entry: one OmniStream server process, configured from its environment (see server-process.ts). */
import { parseConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { serveParent } from './child.js';

await serveParent(() => startServer(parseConfig(process.env)));
