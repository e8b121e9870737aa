import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './errors.ts';

/** Compares in constant time so a token cannot be guessed byte by byte from response times. */
export function tokenMatches(candidate: string, tokens: readonly string[]): boolean {
  const given = Buffer.from(candidate);
  let matched = false;
  for (const token of tokens) {
    const expected = Buffer.from(token);
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched = true;
  }
  return matched;
}

/** `Authorization: Bearer <token>` on every request when tokens are configured. */
export function requireBearer(tokens: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !tokenMatches(match[1]!, tokens)) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json(errorBody(401, 'unauthorized: send Authorization: Bearer <token>'), 401);
    }
    await next();
  };
}
