import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import type { Database } from '../db/schema.ts';
import { tokenMatches } from '../http/auth.ts';
import { findTaskRow, rowToTask } from '../tasks/task.repository.ts';
import { taskRoom, type Ack, type ClientToServerEvents, type ServerToClientEvents } from './events.ts';

export type DedupServer = Server<ClientToServerEvents, ServerToClientEvents>;
type DedupSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface SocketDeps {
  db: Kysely<Database>;
  logger: Logger;
  authTokens: readonly string[];
}

const KNOWN_EVENTS = new Set(['join_task', 'leave_task']);

/** `{ task_id: 7 }` or `{ task_id: "7" }`; anything else is a client mistake worth naming. */
export function parseTaskId(payload: unknown): { taskId: number } | { error: string } {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { error: 'payload must be an object like { "task_id": 1 }' };
  }
  const raw = (payload as { task_id?: unknown }).task_id;
  const id = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d{1,16}\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) return { error: 'task_id must be a positive integer' };
  return { taskId: id };
}

/** Socket.IO passes the acknowledgement, when there is one, as the last argument. */
function ackOf(args: unknown[]): Ack | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as Ack) : undefined;
}

export function registerSocketHandlers(io: DedupServer, { db, logger, authTokens }: SocketDeps) {
  if (authTokens.length > 0) {
    io.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      if (typeof token === 'string' && tokenMatches(token, authTokens)) return next();
      // Never the token itself: only that one was missing or wrong.
      logger.info({ transport: socket.conn.transport.name, address: socket.handshake.address, tokenGiven: token !== undefined }, 'socket refused: missing or unknown token');
      next(new Error('unauthorized: pass auth: { token }'));
    });
  }

  io.on('connection', (socket: DedupSocket) => {
    logger.debug({ socketId: socket.id, transport: socket.conn.transport.name, recovered: socket.recovered }, 'socket connected');
    socket.emit('connected', { message: '连接成功' });

    const reject = (ack: Ack | undefined, message: string) => {
      socket.emit('error', { message });
      ack?.({ ok: false, message });
    };

    socket.on('join_task', async (...args: unknown[]) => {
      const ack = ackOf(args);
      const parsed = parseTaskId(args.length > 0 && args[0] !== ack ? args[0] : undefined);
      if ('error' in parsed) return reject(ack, `join_task: ${parsed.error}`);
      try {
        const row = await findTaskRow(db, parsed.taskId);
        if (!row) return reject(ack, `join_task: task ${parsed.taskId} not found`);
        await socket.join(taskRoom(row.id));
        const task = rowToTask(row);
        socket.emit('task_status', { task_id: task.id, status: task.status, data: task });
        ack?.({ ok: true, data: task });
      } catch (error) {
        logger.error({ err: error, socketId: socket.id }, 'join_task failed');
        reject(ack, 'join_task: internal error');
      }
    });

    socket.on('leave_task', async (...args: unknown[]) => {
      const ack = ackOf(args);
      const parsed = parseTaskId(args.length > 0 && args[0] !== ack ? args[0] : undefined);
      if ('error' in parsed) return reject(ack, `leave_task: ${parsed.error}`);
      await socket.leave(taskRoom(parsed.taskId));
      socket.emit('left', { message: `已离开任务房间 ${parsed.taskId}`, task_id: parsed.taskId });
      ack?.({ ok: true, data: { task_id: parsed.taskId } });
    });

    socket.onAny((event: string, ...args: unknown[]) => {
      if (!KNOWN_EVENTS.has(event)) reject(ackOf(args), `unknown event: ${String(event).slice(0, 64)}`);
    });
  });
}
