/// <reference lib="dom" />
/** The dashboard: tasks with live progress over Socket.IO, file import, cluster browser. */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../realtime/events.ts';
import type { Page } from '../../http/pagination.ts';
import type { Task } from '../../tasks/task.schema.ts';
import { api, token, uploadQuestions } from './api.ts';
import { searchQuestions, showGroups } from './bank.ts';
import { showClusters } from './clusters.ts';
import { reconcile } from './reconcile.ts';
import { $, setBar } from './dom.ts';
import { renderTask, type TaskActions, type TaskView } from './tasks.ts';

const views = new Map<number, TaskView>();
const list = $('#tasks');
const notice = $('#notice');

const say = (text: string, error = false) => {
  notice.textContent = text;
  notice.classList.toggle('error', error);
};
const failed = (error: unknown) => say(error instanceof Error ? error.message : String(error), true);

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({
  transports: ['websocket', 'polling'],
  auth: (send) => send({ token: token.get() }),
  reconnectionDelay: 1000,
});

function setConnection(state: 'connecting' | 'connected' | 'disconnected' | 'error', detail = '') {
  const element = $('#connection');
  element.dataset.state = state;
  element.textContent = detail ? `${state}: ${detail}` : state;
}
setConnection('connecting');

const actions: TaskActions = {
  start: (id) => api.post<Task>(`/api/dedup/tasks/${id}/start`).then(show, failed),
  cancel: (id) => api.post<Task>(`/api/dedup/tasks/${id}/cancel`).then(show, failed),
  clusters: (id) => showClusters($('#clusters'), id).catch(failed),
};

/** Shows a task (keeping what only progress events told us) and makes sure we are in its room. */
function show(next: Task, patch: Partial<TaskView> = {}, snapshot = true) {
  const known = views.get(next.id);
  const task = known && snapshot ? reconcile(known.task, next) : next;
  if (!task) return;
  const view: TaskView = {
    task,
    current_group: known?.current_group ?? null,
    message: known?.message ?? '',
    error: task.status === 'running' ? '' : (known?.error ?? ''),
    ...patch,
  };
  views.set(task.id, view);
  if (!known && socket.connected) socket.emit('join_task', { task_id: task.id });
  renderTask(list, view, actions);
}

socket.on('connect', () => {
  setConnection('connected');
  // A reconnect is a new session: rejoin every room and get the current state back.
  for (const id of views.keys()) socket.emit('join_task', { task_id: id });
});
socket.on('disconnect', (reason) => setConnection('disconnected', reason));
socket.on('connect_error', (error) => setConnection('error', error.message));
socket.on('task_status', ({ data }) => show(data));
socket.on('task_progress', (progress) => {
  const view = views.get(progress.task_id);
  if (!view) return;
  const task: Task = {
    ...view.task,
    status: 'running',
    processed_groups: progress.processed_groups,
    total_groups: progress.total_groups,
    progress_percentage: progress.progress_percentage,
    processed_questions: progress.processed_questions,
    total_questions: progress.total_questions,
    duplicate_count: progress.duplicate_count,
  };
  const eta = progress.eta_seconds === null ? '' : ` · about ${progress.eta_seconds}s left`;
  show(task, { current_group: progress.current_group, message: progress.message + eta, error: '' }, false);
});
socket.on('task_completed', ({ data }) => show(data, { message: 'completed' }));
socket.on('task_error', ({ task_id, error }) => {
  const view = views.get(task_id);
  if (view) show({ ...view.task, status: error === 'cancelled' ? 'cancelled' : 'failed' }, { error }, false);
  // The row has the final counts; the event only says why it stopped.
  api.get<Task>(`/api/dedup/tasks/${task_id}`).then((task) => show(task), () => {});
});
socket.on('error', ({ message }) => say(message, true));

async function loadTasks() {
  const page = await api.get<Page<Task>>('/api/dedup/tasks?page_size=50');
  for (const task of page.items.reverse()) show(task);
}

$('#create').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  api
    .post<Task>('/api/dedup/tasks', {
      task_name: String(form.get('task_name') ?? ''),
      scope: String(form.get('scope')),
      max_distance: Number(form.get('max_distance')),
      min_similarity: Number(form.get('min_similarity')),
    })
    .then((task) => {
      show(task);
      say(`created task #${task.id}`);
      if (form.get('start_now')) actions.start(task.id);
    }, failed);
});

$('#import').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('#import-file') as HTMLInputElement;
  const file = input.files?.[0];
  if (!file) return say('choose a file first', true);
  const progress = $('#import-bar');
  const result = $('#import-result');
  setBar(progress, 0);
  result.textContent = `uploading ${file.name}…`;
  result.classList.remove('error');
  delete result.dataset.done;
  uploadQuestions(file, (fraction) => {
    setBar(progress, fraction * 100);
    // The server validates and stores as it reads; the last rows may take a moment after the last byte.
    if (fraction >= 1) result.textContent = `${file.name}: sent, the service is storing the last rows…`;
  }).then(
    (r) => {
      setBar(progress, 100);
      const rejected = r.rejected_count ?? r.rejected.length;
      const firsts = r.rejected.slice(0, 3).map((x) => `row ${x.index}: ${x.message}`).join('; ');
      result.textContent = `${file.name}: ${r.inserted} inserted, ${r.updated} updated, ${r.unchanged} unchanged, ${rejected} rejected${firsts ? ` (${firsts})` : ''}`;
      result.dataset.done = 'true';
      showGroups($('#bank')).catch(failed);
    },
    (error: Error) => {
      result.textContent = `import failed: ${error.message}`;
      result.classList.add('error');
    },
  );
});

$('#token').addEventListener('change', (event) => {
  token.set((event.target as HTMLInputElement).value.trim());
  location.reload();
});
($('#token') as HTMLInputElement).value = token.get();
$('#refresh').addEventListener('click', () => void loadTasks().catch(failed));

$('#search').addEventListener('submit', (event) => {
  event.preventDefault();
  const q = String(new FormData(event.target as HTMLFormElement).get('q') ?? '');
  searchQuestions($('#bank'), q).catch(failed);
});

loadTasks().catch(failed);
showGroups($('#bank')).catch(failed);
// Tasks created elsewhere (the CLI, another tab) show up without a reload; events keep the rest live.
setInterval(() => {
  if (document.visibilityState === 'visible' && socket.connected) loadTasks().catch(() => {});
}, 10_000);
