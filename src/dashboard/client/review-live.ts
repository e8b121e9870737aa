/// <reference lib="dom" />
/** The review screen's Socket.IO side: one connection, in the task's room, its events handed to the page. */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents } from '../../realtime/events.ts';
import { token } from './api.ts';
import { $ } from './dom.ts';
import type { ClusterReviewedPayload, ReviewServerEvents, ReviewTask, TaskResolvedPayload } from './review-types.ts';

export interface LiveHandlers {
  /** The task as it is now: on every (re)join, and when a run finishes (`finished`: its clusters were replaced). */
  task(task: ReviewTask, finished: boolean): void;
  /** A run of the task started (by anyone): what the page shows is about to be replaced. */
  running(): void;
  reviewed(event: ClusterReviewedPayload): void;
  resolved(event: TaskResolvedPayload): void;
  error(message: string): void;
}

export function joinTaskRoom(taskId: number, on: LiveHandlers) {
  const socket: Socket<ReviewServerEvents, ClientToServerEvents> = io({ transports: ['websocket', 'polling'], auth: (send) => send({ token: token.get() }), reconnectionDelay: 1000 });
  const connection = $('#connection');
  const state = (value: string, detail = '') => {
    connection.dataset.state = value;
    connection.textContent = detail ? `${value}: ${detail}` : value;
  };
  // A reconnect is a new session: join again, and task_status brings the current counts back.
  socket.on('connect', () => {
    state('connected');
    socket.emit('join_task', { task_id: taskId });
  });
  socket.on('disconnect', (reason) => {
    delete document.body.dataset.joined;
    state('disconnected', reason);
  });
  socket.on('connect_error', (error) => state('error', error.message));
  socket.on('task_status', ({ data }) => {
    on.task(data as ReviewTask, false);
    document.body.dataset.joined = 'true'; // in the task's room: other reviewers' decisions reach this page from now on
  });
  socket.on('task_progress', (event) => event.task_id === taskId && on.running());
  socket.on('task_completed', ({ task_id, data }) => task_id === taskId && on.task(data as ReviewTask, true));
  socket.on('cluster_reviewed', (event) => event.task_id === taskId && on.reviewed(event));
  socket.on('task_resolved', (event) => event.task_id === taskId && on.resolved(event));
  socket.on('error', ({ message }) => on.error(message));
  return socket;
}
