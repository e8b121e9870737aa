import { afterAll, beforeAll, expect, it } from 'bun:test';
import { api, connectClient, duplicateBank, importQuestions, readDb, spawnService, tempDir, type Client, type ChildService } from '../support/child-service.ts';
import { anyValue, deepArray, deepObject, junk, prng, type Rng } from '../support/fuzz.ts';

/**
 * ~1,490 malformed Socket.IO events from a seeded generator (null, strings, arrays, deep
 * objects, huge strings, unknown events, floods of joins), over WebSocket and polling: each
 * bad event gets exactly one `error` event (and a failed ack when one was asked for), valid
 * joins in the flood still get `task_status`, and the service and database are untouched.
 * Raw protocol garbage only costs the sender its connection.
 */
const temp = tempDir();
let service: ChildService;
let taskId: number;

beforeAll(async () => {
  service = await spawnService({ worker: 'chaos-worker.ts', dbFile: `${temp.dir}/fuzz-socket.sqlite` });
  await importQuestions(service.url, duplicateBank(2, 3));
  taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'watched' })).body.data.id;
});

afterAll(async () => {
  service?.kill('SIGKILL');
  await service?.exited;
  temp.remove();
});

const snapshot = (file: string) =>
  readDb(file, (db) => {
    // Question prints, their backlog and its mark are a cache the service fills in the background after
    // an import, so they are left out: what a request may not change is the data itself.
    const tables = db
      .query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('question_prints', 'question_backlog', 'question_print_queue', 'question_search_state') AND name NOT LIKE 'questions_fts%' ORDER BY name")
      .all() as { name: string }[];
    const rows = tables.map(({ name }) => [name, db.query(`SELECT * FROM "${name}" ORDER BY rowid`).all()]);
    return JSON.stringify(rows);
  });

function badPayload(rng: Rng): unknown[] {
  // The arguments after the event name; [] sends the event with no payload at all.
  switch (rng.int(0, 13)) {
    case 0:
      return [null];
    case 1:
      return [];
    case 2:
      return [junk(rng)];
    case 3:
      return [String(taskId)];
    case 4:
      return [[taskId]];
    case 5:
      return [deepObject(rng.int(10, 300))];
    case 6:
      return [deepArray(rng.int(10, 300))];
    case 7:
      return [{ task_id: rng.pick([-1, 0, 1.5, -0, 1e20, Number.MAX_SAFE_INTEGER + 2, null, true, {}, [taskId], 'abc', ' 1 2', '', '0x1', '1e3', '٣', junk(rng)]) }];
    case 8:
      return [{ task_id: 'x'.repeat(rng.int(1000, 100_000)) }];
    case 9:
      return [{ task_id: rng.int(100_000, 10_000_000) }];
    case 10:
      return [new Uint8Array(rng.int(0, 64))];
    case 11:
      return [{ taskId }];
    case 12:
      return [anyValue(rng), anyValue(rng)];
    default:
      return [Number(taskId)];
  }
}

const UNKNOWN_EVENTS = ['', 'JOIN_TASK', 'join task', 'joinTask', 'error', 'connected', 'task_progress', 'task_completed', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'.repeat(2000)];

interface Tally {
  errors: number;
  statuses: number;
  lefts: number;
}

/** Leaving a room needs only a well-formed id (leaving a room one is not in is harmless). */
function wellFormedId(args: unknown[]): boolean {
  const payload = args[0];
  if (args.length !== 1 || payload === null || typeof payload !== 'object' || Array.isArray(payload) || payload instanceof Uint8Array) return false;
  const raw = (payload as { task_id?: unknown }).task_id;
  const id = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d{1,16}\s*$/.test(raw) ? Number(raw) : NaN;
  return Number.isSafeInteger(id) && id >= 1;
}

function watch(client: Client): Tally {
  const tally = { errors: 0, statuses: 0, lefts: 0 };
  client.on('error', (payload) => {
    if (payload && typeof payload.message === 'string') tally.errors++;
  });
  client.on('task_status', () => tally.statuses++);
  client.on('left', () => tally.lefts++);
  return tally;
}

async function settle(check: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await Bun.sleep(20);
  await Bun.sleep(200); // and nothing more arrives
}

it('answers each of ~1,490 malformed events with one error event, serves valid joins in the flood, and changes nothing', async () => {
  const before = snapshot(service.dbFile);
  const pid = service.proc.pid;
  const rng = prng(424242);
  const clients = await Promise.all(
    Array.from({ length: 8 }, (_, i) => connectClient(service.url, { transports: i % 4 === 3 ? ['polling'] : ['websocket'] })),
  );
  const tallies = clients.map(watch);
  const expected = clients.map(() => ({ errors: 0, statuses: 0, lefts: 0 }));
  const ackFailures: string[] = [];
  const acks: Promise<unknown>[] = [];
  let bad = 0;

  for (let i = 0; i < 1500; i++) {
    const which = rng.int(0, clients.length - 1);
    const client = clients[which]!;
    const kind = rng.int(0, 9);
    let event: string;
    let args: unknown[];
    if (kind <= 3) [event, args] = ['join_task', badPayload(rng)];
    else if (kind <= 5) [event, args] = ['leave_task', badPayload(rng)];
    else if (kind <= 8) [event, args] = [rng.pick([...UNKNOWN_EVENTS, junk(rng)]), rng.next() < 0.5 ? [] : [anyValue(rng)]];
    else [event, args] = ['join_task', [{ task_id: taskId }]]; // a valid join inside the flood

    const valid = event === 'join_task' && args.length === 1 && typeof args[0] === 'object' && (args[0] as { task_id?: unknown })?.task_id === taskId;
    const validLeave = event === 'leave_task' && wellFormedId(args);
    if (valid) expected[which]!.statuses++;
    else if (validLeave) expected[which]!.lefts++;
    else {
      expected[which]!.errors++;
      bad++;
    }
    if (!valid && !validLeave && rng.next() < 0.3) {
      acks.push(
        client
          .timeout(10_000)
          .emitWithAck(event, ...args)
          .then((answer: { ok?: unknown; message?: unknown }) => {
            if (answer?.ok !== false || typeof answer.message !== 'string') ackFailures.push(`${event}: ${JSON.stringify(answer)}`);
          }, (error: Error) => ackFailures.push(`${event}: ${error.message}`)),
      );
    } else {
      client.emit(event, ...args);
    }
    if (i % 100 === 99) await Bun.sleep(5);
  }

  // A flood of joins, good and unknown, from one more client as fast as it can.
  const flooder = await connectClient(service.url);
  const floodTally = watch(flooder);
  for (let i = 0; i < 300; i++) flooder.emit('join_task', { task_id: i % 2 === 0 ? taskId : 900_000 + i });
  bad += 150;

  await settle(() => tallies.every((tally, i) => tally.errors >= expected[i]!.errors && tally.statuses >= expected[i]!.statuses && tally.lefts >= expected[i]!.lefts) && floodTally.errors >= 150 && floodTally.statuses >= 150);
  await Promise.all(acks);
  expect(bad).toBeGreaterThanOrEqual(1000);
  expect(tallies).toEqual(expected);
  expect(floodTally).toEqual({ errors: 150, statuses: 150, lefts: 0 });
  expect(ackFailures).toEqual([]);
  expect(clients.every((client) => client.connected) && flooder.connected).toBe(true);

  // Still serving: a fresh join works, REST is up, same process, same data.
  const answer = await clients[0]!.emitWithAck('join_task', { task_id: taskId });
  expect(answer.ok).toBe(true);
  expect((await api(service.url, 'GET', '/api/health')).status).toBe(200);
  expect(service.proc.pid).toBe(pid);
  expect(service.proc.exitCode).toBeNull();
  expect(snapshot(service.dbFile)).toBe(before);
  for (const client of [...clients, flooder]) client.close();
}, 60_000);

it('drops a connection that sends protocol garbage, and only that one', async () => {
  const bystander = await connectClient(service.url);
  const garbage = ['42[', '4', '99', 'abc', '42{"a":1}', '42["join_task",', '2probe', '451-["join_task",{"_placeholder":true,"num":9}]', '0{"x":', '\u0000', '42' + '['.repeat(5000), '', `42["join_task",${'['.repeat(100_000)}${']'.repeat(100_000)}]`, `42["join_task",${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}]`];
  const closes = await Promise.all(
    garbage.map(
      (frame) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`${service.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
          const timer = setTimeout(() => {
            ws.close();
            resolve('still open');
          }, 3000);
          ws.onmessage = (message) => {
            if (String(message.data).startsWith('0')) ws.send('40'); // engine open → socket.io connect
            else if (String(message.data).startsWith('40')) ws.send(frame);
          };
          ws.onclose = () => {
            clearTimeout(timer);
            resolve('closed');
          };
        }),
    ),
  );
  // Most garbage ends its connection; whatever it did, the service and the bystander carry on.
  expect(closes.filter((state) => state === 'closed').length).toBeGreaterThanOrEqual(garbage.length / 2);
  expect(bystander.connected).toBe(true);
  expect((await bystander.emitWithAck('join_task', { task_id: taskId })).ok).toBe(true);
  expect((await api(service.url, 'GET', '/api/health')).status).toBe(200);
  expect(service.proc.exitCode).toBeNull();
  bystander.close();
}, 30_000);
