import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';

/** Paths polled by machines or fetched with every page view: logged at debug, not info. */
const QUIET = new Set(['/metrics', '/api/health', '/dashboard.js', '/favicon.svg', '/favicon.ico']);

/**
 * One JSON log line per request with its id (the caller's `X-Request-Id` when it looks sane,
 * else a fresh UUID, echoed back in the response), and the request counted in the metrics.
 */
export function requestLog(logger: Logger, record: (method: string, status: number, seconds: number) => void): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const id = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    record(c.req.method, status, seconds);
    const level = status >= 500 ? 'error' : QUIET.has(c.req.path) ? 'debug' : 'info';
    logger[level]({ reqId: id, method: c.req.method, path: c.req.path, status, ms: Math.round(seconds * 10_000) / 10 }, 'request');
  };
}

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string;
  }
}
