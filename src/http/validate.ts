import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError, validationError } from './errors.ts';

/** Parses a query string against a schema; bad query parameters are the client's mistake (400). */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) throw validationError(result.error, 400);
  return result.data;
}

/** Ids in paths are positive integers; anything else can never name a row. */
export function parseId(c: Context, name = 'id'): number {
  const raw = c.req.param(name) ?? '';
  const id = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw new AppError(400, `${name} must be a positive integer, got "${raw.slice(0, 40)}"`);
  return id;
}

export function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Reads a JSON body: 415 for another media type, 400 for malformed JSON. */
export async function readJson(c: Context, { optional = false } = {}): Promise<unknown> {
  const bytes = await c.req.arrayBuffer();
  // Fatal: bytes that are not UTF-8 would otherwise become U+FFFD, an id another id.
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  if (optional && (text ?? new TextDecoder().decode(bytes)).trim() === '') return undefined;
  if (mediaType(c) !== 'application/json') {
    throw new AppError(415, 'the body must be application/json');
  }
  if (text === undefined) throw new AppError(400, 'malformed JSON: the body is not valid UTF-8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError(400, `malformed JSON: ${(error as Error).message}`);
  }
}

/** Reads and validates a JSON body (422 with `errors` when it does not fit the schema). */
export async function readBody<S extends z.ZodType>(c: Context, schema: S, options?: { optional?: boolean }): Promise<z.infer<S>> {
  const body = await readJson(c, options);
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw validationError(result.error);
  return result.data;
}
