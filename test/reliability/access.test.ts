import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { api, connectClient, spawnService, tempDir, type ChildService } from '../support/child-service.ts';

/**
 * AUTH_TOKENS and CORS_ORIGINS on a real process: REST needs a Bearer token (401 otherwise)
 * except /api/health, Socket.IO needs auth: { token } (connect_error otherwise), both
 * transports and REST follow one origin allow-list, and no token ever reaches the logs.
 */
const TOKENS = ['tok-alpha-5f1c9e', 'tok-beta-77d2a0'];
const WRONG = ['tok-wrong-3b8e41', 'tok-alpha-5f1c9', 'tok-alpha-5f1c9ex'];
const ALLOWED = 'http://allowed.example:3000';
const DENIED = 'http://evil.example';
const temp = tempDir();
let service: ChildService;

beforeAll(async () => {
  service = await spawnService({
    worker: 'chaos-worker.ts',
    dbFile: `${temp.dir}/access.sqlite`,
    env: { AUTH_TOKENS: ` ${TOKENS[0]}, ${TOKENS[1]} `, CORS_ORIGINS: `${ALLOWED},http://other.example`, LOG_LEVEL: 'trace' },
  });
});
afterAll(async () => {
  service?.kill('SIGKILL');
  await service?.exited;
  temp.remove();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('REST', () => {
  it('keeps /api/health open', async () => {
    const health = await api(service.url, 'GET', '/api/health');
    expect(health.status).toBe(200);
    expect(health.body.data.status).toBe('ok');
  });

  it('answers 401 with the envelope without a valid Bearer token', async () => {
    const attempts: Record<string, string>[] = [
      {},
      bearer(WRONG[0]!),
      bearer(WRONG[1]!),
      bearer(WRONG[2]!),
      bearer(TOKENS.join(',')),
      { authorization: TOKENS[0]! },
      { authorization: `Basic ${btoa(`user:${TOKENS[0]}`)}` },
      { authorization: `Bearer ${TOKENS[0]} extra` },
      { 'x-api-key': TOKENS[0]! },
    ];
    for (const headers of attempts) {
      for (const [method, path, body] of [
        ['GET', '/api/dedup/tasks'],
        ['GET', '/api/questions'],
        ['POST', '/api/dedup/tasks', { task_name: 'sneaky' }],
        ['GET', '/api/nope'],
      ] as const) {
        const answer = await api(service.url, method, path, body, headers);
        expect(answer.status).toBe(401);
        expect(answer.body).toEqual({ code: 401, message: expect.any(String), data: null });
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    expect((await api(service.url, 'GET', '/api/dedup/tasks', undefined, bearer(TOKENS[0]!))).body.data.total).toBe(0);
  });

  it('serves every configured token', async () => {
    for (const token of TOKENS) {
      const created = await api(service.url, 'POST', '/api/dedup/tasks', { task_name: `by ${token.slice(0, 7)}` }, bearer(token));
      expect(created.status).toBe(201);
      expect((await api(service.url, 'GET', `/api/dedup/tasks/${created.body.data.id}`, undefined, { authorization: `bearer ${token}` })).status).toBe(200);
    }
  });

  it('follows CORS_ORIGINS, preflight included (which needs no token)', async () => {
    const preflight = (origin: string) =>
      fetch(`${service.url}/api/dedup/tasks`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const denied = await preflight(DENIED);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();

    const get = (origin: string) => fetch(`${service.url}/api/dedup/tasks`, { headers: { origin, ...bearer(TOKENS[0]!) } });
    expect((await get(ALLOWED)).headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect((await get(DENIED)).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('Socket.IO', () => {
  for (const transport of ['websocket', 'polling'] as const) {
    it(`refuses a ${transport} connection without a valid auth token with connect_error`, async () => {
      for (const auth of [undefined, {}, { token: WRONG[0] }, { token: WRONG[2] }, { token: 123 }, { token: TOKENS }, { token: null }, { token: TOKENS.join(',') }]) {
        const error = await connectClient(service.url, { transports: [transport], ...(auth ? { auth: auth as Record<string, unknown> } : {}) }).then(
          (socket) => {
            socket.close();
            return undefined;
          },
          (failure: Error) => failure,
        );
        expect(error?.message).toMatch(/unauthorized/);
      }
    });

    it(`accepts a ${transport} connection with auth: { token } and lets it join`, async () => {
      const task = await api(service.url, 'POST', '/api/dedup/tasks', { task_name: `watch ${transport}` }, bearer(TOKENS[1]!));
      for (const token of TOKENS) {
        const socket = await connectClient(service.url, { transports: [transport], auth: { token } });
        expect((await socket.emitWithAck('join_task', { task_id: task.body.data.id })).ok).toBe(true);
        socket.close();
      }
    });
  }

  it('follows CORS_ORIGINS on the polling handshake and on WebSocket upgrades', async () => {
    const handshake = (origin: string) => fetch(`${service.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
    const allowed = await handshake(ALLOWED);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const denied = await handshake(DENIED);
    expect(denied.headers.get('access-control-allow-origin')).not.toBe(DENIED);
    expect(denied.status).toBe(403);

    const upgrade = (origin: string) =>
      new Promise<string>((resolve) => {
        // Bun's WebSocket takes headers, so the test can send the Origin a browser would.
        const ws = new WebSocket(`${service.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, { headers: { origin } } as unknown as string[]);
        ws.onmessage = (message) => {
          resolve(String(message.data).startsWith('0') ? 'open' : 'other');
          ws.close();
        };
        ws.onerror = () => resolve('refused');
        ws.onclose = () => resolve('refused');
      });
    expect(await upgrade(ALLOWED)).toBe('open');
    expect(await upgrade(DENIED)).toBe('refused');

    // A client that sends no Origin is no browser; CORS does not apply to it (auth still does).
    const socket = await connectClient(service.url, { auth: { token: TOKENS[0] } });
    socket.close();
  });
});

it('never writes a token to the logs', async () => {
  // Whatever happened above was logged at trace level; make sure there was something to look at.
  await Bun.sleep(200);
  const log = service.output.join('\n');
  expect(service.logs.some((line) => line.msg === 'socket connected')).toBe(true);
  expect(service.logs.filter((line) => line.msg === 'socket refused: missing or unknown token').length).toBeGreaterThanOrEqual(16);
  expect(service.logs.filter((line) => line.msg === 'request' && line.status === 401).length).toBeGreaterThanOrEqual(36);
  for (const secret of [...TOKENS, ...WRONG]) expect(log).not.toContain(secret);
  expect(log).not.toContain(btoa(`user:${TOKENS[0]}`));
});
