import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from './errors.ts';

/** Compares in constant time so a token cannot be guessed byte by byte from response times. */
export function tokenMatches(candidate: string, tokens: readonly string[]): boolean {
  return matchingToken(candidate, tokens) !== undefined;
}

/** The configured token equal to `candidate`, compared in constant time; every token is compared. */
function matchingToken(candidate: string, tokens: readonly string[]): string | undefined {
  const given = Buffer.from(candidate);
  let matched: string | undefined;
  for (const token of tokens) {
    const expected = Buffer.from(token);
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched = token;
  }
  return matched;
}

/**
 * `Authorization: Bearer <token>` on every request when tokens are configured. A token named in
 * AUTH_TOKENS (`name:token`) leaves its name in the context as `tokenName` (see reviewerOf).
 */
export function requireBearer(tokens: readonly string[], names: Readonly<Record<string, string>> = {}): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match ? matchingToken(match[1]!, tokens) : undefined;
    if (token === undefined) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json(errorBody(401, 'unauthorized: send Authorization: Bearer <token>'), 401);
    }
    const name = Object.hasOwn(names, token) ? names[token] : undefined;
    if (name !== undefined) c.set('tokenName', name);
    await next();
  };
}

/**
 * Who makes a review decision: the name of the access token used, else the request's
 * `X-Reviewer` header, else `anonymous`. Header values are Latin-1, so a name in another script
 * comes percent-encoded (`encodeURIComponent('王老师')`) and is decoded here; trimmed, at most
 * 100 characters, control characters dropped.
 */
export function reviewerOf(c: Context): string {
  const named = c.get('tokenName');
  if (named) return named;
  const raw = c.req.header('x-reviewer') ?? '';
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Not percent-encoding (a lone %): the name as sent.
  }
  const name = decoded.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 100);
  return name || 'anonymous';
}

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by requireBearer for a named token. */
    tokenName: string;
  }
}
