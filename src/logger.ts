/** The process-wide pino logger; startServer sets its level from the configuration. */
import { pino } from 'pino';

export const logger = pino({ level: 'info' });
