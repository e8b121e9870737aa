/** The CLI's REST client: the contract's envelope in, data or a CliError with a clear message out. */

export class CliError extends Error {
  constructor(
    message: string,
    /** Process exit code: 1 for failures, 2 for usage mistakes. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface Target {
  url: string;
  token?: string;
  /** Sent as X-Reviewer (percent-encoded): who a review or resolution is by, when the token has no name. */
  reviewer?: string;
}

export function authHeaders(target: Target, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = target.token ? { ...extra, Authorization: `Bearer ${target.token}` } : { ...extra };
  if (target.reviewer) headers['X-Reviewer'] = encodeURIComponent(target.reviewer);
  return headers;
}

export async function send(target: Target, method: string, path: string, init: { body?: BodyInit; contentType?: string } = {}): Promise<Response> {
  try {
    return await fetch(new URL(path, target.url), {
      method,
      headers: authHeaders(target, init.contentType ? { 'Content-Type': init.contentType } : {}),
      body: init.body,
      // Bun streams a ReadableStream body; Node's fetch needs this flag for it.
      ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (error) {
    throw new CliError(`cannot reach ${target.url} (${(error as Error).message}); is the service running? Try: npm start`);
  }
}

/** Unwraps `{ code, message, data }`; any failure status becomes a CliError naming it. */
export async function unwrap<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: { message?: string; data?: T; errors?: { path: string; message: string }[] } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    // Reported below.
  }
  if (!response.ok) {
    const details = body?.errors?.map((e) => `  ${e.path || 'body'}: ${e.message}`).join('\n');
    throw new CliError(`HTTP ${response.status}: ${body?.message ?? text.slice(0, 200)}${details ? `\n${details}` : ''}`);
  }
  if (!body) throw new CliError(`unexpected answer from the service: ${text.slice(0, 200)}`);
  return body.data as T;
}

export const call = async <T>(target: Target, method: string, path: string, json?: unknown) =>
  unwrap<T>(await send(target, method, path, json === undefined ? {} : { body: JSON.stringify(json), contentType: 'application/json' }));
