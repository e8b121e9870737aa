/// <reference lib="dom" />
import type { GroupKey } from '../../realtime/events.ts';
import type { Task } from '../../tasks/task.schema.ts';
import { api, token } from './api.ts';
import { $, bar, h, setBar } from './dom.ts';

/** What a task card shows: the task row plus what only progress events carry. */
export interface TaskView {
  task: Task;
  current_group: GroupKey | null;
  message: string;
  error: string;
}

export interface TaskActions {
  start(id: number): void;
  cancel(id: number): void;
  clusters(id: number): void;
}

interface GroupRow extends GroupKey {
  status: string;
  question_count: number;
  duplicate_count: number;
  elapsed_ms: number | null;
}

/** The task's groups, fetched each time the list is opened (it changes while the task runs). */
function groupsDetails(id: number): HTMLDetailsElement {
  const body = h('div', { class: 'groups-table' }, 'loading…');
  const details = h('details', { class: 'task-groups' }, h('summary', {}, 'Groups'), body);
  details.addEventListener('toggle', () => {
    if (!details.open) return;
    api.get<GroupRow[]>(`/api/dedup/tasks/${id}/groups`).then(
      (rows) => {
        const cells = (row: GroupRow) =>
          [row.type_name, row.subject_name, row.channel_code, row.status, row.question_count, row.duplicate_count, row.elapsed_ms === null ? '' : `${row.elapsed_ms} ms`].map((v) => h('td', {}, String(v)));
        const head = h('tr', {}, ...['type', 'subject', 'channel', 'status', 'questions', 'duplicates', 'time'].map((v) => h('th', {}, v)));
        body.replaceChildren(rows.length ? h('table', {}, head, ...rows.map((row) => h('tr', { 'data-status': row.status }, ...cells(row)))) : 'no groups yet (the task has not started)');
      },
      (error: Error) => body.replaceChildren(`could not load the groups: ${error.message}`),
    );
  });
  return details;
}

const groupLabel = (group: GroupKey | null) => (group ? `${group.type_name} - ${group.subject_name} (${group.channel_code})` : '—');

/** A plain download link; with a token it fetches with the header, since a link cannot send one. */
function exportLink(id: number): HTMLAnchorElement {
  const href = `/api/dedup/tasks/${id}/export?format=csv`;
  const link = h('a', { class: 'export', href, download: `task-${id}-duplicates.csv` }, 'Export CSV');
  link.addEventListener('click', (event) => {
    if (!token.get()) return;
    event.preventDefault();
    void fetch(href, { headers: { Authorization: `Bearer ${token.get()}` } })
      .then((response) => (response.ok ? response.blob() : Promise.reject(new Error(`export failed: HTTP ${response.status}`))))
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        const save = h('a', { href: url, download: `task-${id}-duplicates.csv` });
        save.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      })
      .catch((error: Error) => alert(error.message));
  });
  return link;
}

function card(view: TaskView, actions: TaskActions): HTMLElement {
  const id = view.task.id;
  const button = (action: keyof TaskActions, label: string) => {
    const element = h('button', { type: 'button', 'data-action': action }, label);
    element.addEventListener('click', () => actions[action](id));
    return element;
  };
  return h(
    'article',
    { class: 'task', 'data-task-id': id },
    h('header', {}, h('strong', { class: 'name' }), h('span', { class: 'status' })),
    bar(`task ${id} progress`),
    h(
      'dl',
      { class: 'meta' },
      h('dt', {}, 'Progress'),
      h('dd', { class: 'pct' }),
      h('dt', {}, 'Groups'),
      h('dd', { class: 'groups' }),
      h('dt', {}, 'Current group'),
      h('dd', { class: 'current' }),
      h('dt', {}, 'Duplicates'),
      h('dd', { class: 'dups' }),
    ),
    h('p', { class: 'message' }),
    h(
      'div',
      { class: 'actions' },
      button('start', 'Start'),
      button('cancel', 'Cancel'),
      button('clusters', 'Clusters'),
      h('a', { class: 'review', href: `/review?task=${id}` }, 'Review'),
      exportLink(id),
    ),
    groupsDetails(id),
  );
}

/** Creates the card on first sight, then only updates its text and bar, so events do not flicker. */
export function renderTask(list: HTMLElement, view: TaskView, actions: TaskActions) {
  const { task } = view;
  let element = list.querySelector<HTMLElement>(`[data-task-id="${task.id}"]`);
  if (!element) {
    element = card(view, actions);
    // Newest first, as the REST list returns them.
    const next = [...list.children].find((child) => Number((child as HTMLElement).dataset.taskId) < task.id);
    list.insertBefore(element, next ?? null);
  }
  element.dataset.status = task.status;
  $('.name', element).textContent = `#${task.id} ${task.task_name}`;
  $('.status', element).textContent = task.status;
  setBar($('.bar', element), task.progress_percentage);
  $('.pct', element).textContent = `${task.progress_percentage.toFixed(2)}%`;
  $('.groups', element).textContent = `${task.processed_groups} / ${task.total_groups}`;
  $('.current', element).textContent = groupLabel(view.current_group);
  $('.dups', element).textContent = `${task.duplicate_count} in ${task.cluster_count} clusters`;
  $('.message', element).textContent = view.error || view.message;
  $('.message', element).classList.toggle('error', view.error !== '');
  ($('[data-action=start]', element) as HTMLButtonElement).disabled = task.status === 'running';
  ($('[data-action=cancel]', element) as HTMLButtonElement).disabled = task.status !== 'running';
}
