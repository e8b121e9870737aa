import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import type { ZodError } from 'zod';

export interface FieldError {
  path: string;
  message: string;
}

/** The one error type routes throw; `app.onError` turns it into the contract's envelope. */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AppError(404, `${what} not found`);

export function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const { path, message } = explained(issue);
    return { path: path.map(String).join('.'), message };
  });
}

type Issue = ZodError['issues'][number];

/**
 * A union's own message is only "Invalid input" (a record key's "Invalid key in record"). When one
 * alternative had the right type and failed a check (e.g. an option holding a lone surrogate),
 * that check's message says why.
 */
function explained(issue: Issue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'invalid_union') {
    for (const alternative of issue.errors) {
      const inner = alternative[0];
      if (inner && inner.code !== 'invalid_type' && inner.code !== 'invalid_union') {
        const why = explained(inner);
        return { path: [...issue.path, ...why.path], message: why.message };
      }
    }
  }
  // A record's key that failed its own check: that check's message.
  if (issue.code === 'invalid_key' && issue.issues[0]) return { path: issue.path, message: `key ${issue.issues[0].message}` };
  return { path: issue.path, message: issue.message };
}

export function validationError(error: ZodError, status: ContentfulStatusCode = 422): AppError {
  const errors = fieldErrors(error);
  const first = errors[0];
  const summary = first ? `${first.path || 'body'}: ${first.message}` : 'invalid input';
  return new AppError(status, `validation failed: ${summary}`, errors);
}

/** Success envelope: `{ code, message, data }` with `code` equal to the HTTP status. */
export function ok<T>(c: Context, data: T, status: 200 | 201 = 200) {
  return c.json({ code: status, message: status === 201 ? 'created' : 'ok', data }, status);
}

export function errorBody(status: number, message: string, errors?: FieldError[]) {
  return errors ? { code: status, message, data: null, errors } : { code: status, message, data: null };
}

/** Errors we did not anticipate are logged with their stack and reach the client as a bare 500. */
export function handleError(logger: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof AppError) {
      return c.json(errorBody(error.status, error.message, error.errors), error.status);
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Hono's own HTTPExceptions (e.g. from bodyLimit) carry a client-facing status.
      return c.json(errorBody(status, error.message || 'bad request'), status as ContentfulStatusCode);
    }
    logger.error({ err: error, reqId: c.get('requestId'), method: c.req.method, path: c.req.path }, 'unhandled error');
    return c.json(errorBody(500, 'internal server error'), 500);
  };
}
