/**
 * Named HTTP errors. The error middleware renders `{ message, code, details? }` with `status`;
 * anything that is not an AppError is a 500 whose message is never shown to the caller.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const ValidationError = (message: string, details?: unknown[]) =>
  new AppError(400, 'validation_error', message, details);
/** One problem with one input field. */
export interface FieldIssue {
  in: 'params' | 'query' | 'body';
  field: string | null;
  message: string;
  [extra: string]: unknown;
}

/**
 * A 400 naming every bad field, its message led by the first one
 * ("Invalid request body.days.2: overlaps days.1 on day 1"), the same for schema and rule checks.
 */
export function FieldsError(issues: [FieldIssue, ...FieldIssue[]]): AppError {
  const [first] = issues;
  return ValidationError(`Invalid request ${first.in}${first.field ? `.${first.field}` : ''}: ${first.message}`, issues);
}

/** Throws FieldsError when there is any issue. */
export function assertNoFieldIssues(issues: FieldIssue[]): void {
  const [first, ...rest] = issues;
  if (first) throw FieldsError([first, ...rest]);
}

/** A 400 for one bad body field. */
export const BodyFieldError = (field: string, message: string, extra: Record<string, unknown> = {}) =>
  FieldsError([{ in: 'body', field, message, ...extra }]);

/**
 * A 422 for a body field that is well-formed but not allowed as it stands (an SMTP host that
 * resolves to a private address): "settings.smtp.host resolves to a private address (10.0.0.5)".
 */
export const FieldStateError = (field: string, message: string, code = 'state_not_allowed') =>
  new AppError(422, code, `${field} ${message}`, [{ in: 'body', field, message }]);

export const UnauthorizedError = (message = 'Authentication required') =>
  new AppError(401, 'unauthorized', message);
export const ForbiddenError = (message = 'You do not have permission to do this') =>
  new AppError(403, 'forbidden', message);
export const NotFoundError = (resource = 'Resource') => new AppError(404, 'not_found', `${resource} not found`);
export const ConflictError = (message: string) => new AppError(409, 'conflict', message);
export const StateError = (message: string) => new AppError(422, 'state_not_allowed', message);

/** A 429: the caller used up a limit; `retryAfterSeconds` becomes the Retry-After header. */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'rate_limited', message);
    this.name = 'RateLimitedError';
  }
}

/** True for MongoDB's duplicate-key error, the signal that an `_id` or unique claim was lost. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * A versioned write the database refused: the document no longer has the `version` the writer
 * read (ARCHITECTURE invariant 4, the second fence). The actor runtime reloads and retries the
 * message once on current state; a second refusal reaches the caller as this 409.
 */
export class StaleWriteError extends AppError {
  constructor(resource: string, id: string, version: number) {
    super(409, 'version_conflict', `The ${resource} changed while this request was applied (expected version ${version} of ${id}); try again`);
    this.name = 'StaleWriteError';
  }
}
