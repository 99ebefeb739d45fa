/** The process-wide pino logger; startServer sets its level from the configuration. */
import { pino, type LoggerOptions } from 'pino';

// Field names that carry credentials wherever they appear in a logged object (up to three levels
// down, as in `{ err: { config: { headers } } }`): a log line must never hold a secret, even
// when a caller logs more of an object than it meant to.
const SECRET_FIELDS = ['access_token', 'app_secret', 'password', 'secret', 'token', 'authorization', 'cookie', 'smtp_password', 'verify_token', 'pin'];
const SECRET_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]);

/** The logger's options: level and the redaction of credential fields. */
export const LOGGER_OPTIONS: LoggerOptions = { level: 'info', redact: { paths: SECRET_PATHS, censor: '[redacted]' } };

export const logger = pino(LOGGER_OPTIONS);
