/// <reference lib="dom" />
/** The review screen: one page of a task's clusters, keyboard review, other reviewers' decisions live over Socket.IO. */
import type { Page } from '../../http/pagination.ts';
import { api, reviewer, token } from './api.ts';
import { $, h, setBar } from './dom.ts';
import { clusterCard } from './review-card.ts';
import { joinTaskRoom } from './review-live.ts';
import { setUpResolve } from './review-resolve.ts';
import {
  applyReviewed, clustersPath, isStale, keyCommand, moveFocus, orderedMembers, PAGE_SIZE, progressPercent, readAddress, writeAddress,
  type Focus, type KeyCommand,
} from './review-state.ts';
import type { ReviewAction, ReviewCluster, ReviewTask } from './review-types.ts';

const address = readAddress(location.search);
const list = $('#clusters .list');
const notice = $('#notice');
let clusters: ReviewCluster[] = [];
let focus: Focus | null = null;
let task: ReviewTask | null = null;
let progress = { reviewed: 0, total: 0 };

const say = (text: string, error = false) => {
  notice.textContent = text;
  notice.classList.toggle('error', error);
};
const failed = (error: unknown) => say(error instanceof Error ? error.message : String(error), true);

/** A short line at the bottom of the screen for what other reviewers just did, wherever the reader has scrolled to. */
let liveTimer: ReturnType<typeof setTimeout> | undefined;
function announce(text: string) {
  const live = $('#live');
  live.textContent = text;
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => (live.textContent = ''), 5000);
}

function showProgress() {
  setBar($('#review-bar'), progressPercent(progress.reviewed, progress.total));
  const counts = task?.confirmed_cluster_count === undefined ? '' : ` · ${task.confirmed_cluster_count} confirmed · ${task.dismissed_cluster_count ?? 0} dismissed`;
  $('#review-counts').textContent = `${progress.reviewed} of ${progress.total} clusters reviewed${counts}`;
}

function showTask(next: ReviewTask) {
  task = next;
  progress = { reviewed: next.reviewed_cluster_count ?? progress.reviewed, total: next.cluster_count };
  $('#task-title').textContent = `Task #${next.id} ${next.task_name} · ${next.status}`;
  document.title = `Review #${next.id} · Question dedup`;
  if (next.status === 'running') say('This task is running: its clusters can be reviewed once it finishes.');
  showProgress();
}

/** Fetched again a moment after a burst of decisions, for the confirmed/dismissed counts the events do not carry. */
let taskRefresh: ReturnType<typeof setTimeout> | undefined;
function refreshTaskSoon() {
  clearTimeout(taskRefresh);
  taskRefresh = setTimeout(() => void api.get<ReviewTask>(`/api/dedup/tasks/${address.task}`).then(showTask, () => {}), 300);
}

function memberElement(f: Focus | null): HTMLElement | null {
  return f && list.querySelector<HTMLElement>(`.cluster[data-cluster-id="${f.cluster_id}"] .member[data-question-id="${f.question_id}"]`);
}

function setFocus(next: Focus | null) {
  focus = next;
  const element = memberElement(next);
  if (!element) return;
  element.focus({ preventScroll: true });
  element.scrollIntoView({ block: 'nearest' });
}

/** Replaces one card in place; the focus stays on its question, or on the cluster's first member if that question left. */
function showCluster(cluster: ReviewCluster) {
  const at = clusters.findIndex((c) => c.cluster_id === cluster.cluster_id);
  if (at < 0) return;
  clusters[at] = cluster;
  const old = list.querySelector(`.cluster[data-cluster-id="${cluster.cluster_id}"]`);
  const hadFocus = old?.contains(document.activeElement) ?? false;
  old?.replaceWith(clusterCard(cluster));
  if (focus?.cluster_id !== cluster.cluster_id) return;
  const still = cluster.members.some((m) => m.question_id === focus!.question_id);
  const next = still ? focus : { cluster_id: cluster.cluster_id, question_id: orderedMembers(cluster)[1]?.question_id ?? cluster.canonical_question_id };
  if (hadFocus) setFocus(next);
  else focus = next;
}

/** Counts page loads, so an answer to an older request (filters changed meanwhile) is dropped. */
let loads = 0;

async function loadPage() {
  const id = address.task!;
  const load = ++loads;
  $('#clusters .title').textContent = 'Loading clusters…';
  const data = await api.get<Page<ReviewCluster>>(clustersPath(id, address.page, address.filters));
  if (load !== loads) return;
  clusters = data.items;
  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  const filtered = address.filters.review || address.filters.min_similarity || address.filters.max_similarity;
  $('#clusters .title').textContent = `${data.total} clusters${filtered ? ' match the filters' : ''}`;
  $('#clusters .page-label').textContent = `page ${address.page} of ${pages}`;
  list.replaceChildren(...(clusters.length ? clusters.map(clusterCard) : [h('p', { class: 'message' }, 'No clusters here.')]));
  $<HTMLButtonElement>('[data-page=prev]').disabled = address.page <= 1;
  $<HTMLButtonElement>('[data-page=next]').disabled = address.page >= pages;
  const kept = focus && clusters.find((c) => c.cluster_id === focus!.cluster_id);
  focus = kept ? focus : null;
  list.dataset.loaded = String(Date.now()); // tests wait on this
}

const go = (page: number) => {
  address.page = page;
  history.replaceState(null, '', writeAddress(address));
  void loadPage().catch(failed);
};

async function review(clusterId: number, body: ReviewAction) {
  const answer = await api.post<ReviewCluster>(`/api/dedup/tasks/${address.task}/clusters/${clusterId}/review`, body);
  const shown = clusters.find((c) => c.cluster_id === clusterId);
  if (shown && !isStale(shown.review, answer.review)) showCluster(applyReviewed(shown, answer));
  say('');
}

/**
 * Decisions on one cluster are sent one after another, each worked out from the state the previous
 * one left: `c` then `x` pressed quickly must not reject the question `c` just made canonical.
 */
const queued = new Map<number, Promise<void>>();
function decide(clusterId: number, decision: (cluster: ReviewCluster) => ReviewAction | string) {
  const next = (queued.get(clusterId) ?? Promise.resolve())
    .then(() => {
      const cluster = clusters.find((c) => c.cluster_id === clusterId);
      if (!cluster) return; // another page was loaded meanwhile
      const body = decision(cluster);
      return typeof body === 'string' ? say(body, true) : review(clusterId, body);
    })
    .catch(failed);
  queued.set(clusterId, next);
  void next.then(() => queued.get(clusterId) === next && queued.delete(clusterId));
}

/** A command on the focused member or its cluster; without a focus, any command first focuses the page's first cluster. */
function run(command: KeyCommand) {
  if (command === 'help') return void $('.keys').scrollIntoView({ block: 'center' });
  if (command === 'next' || command === 'previous' || command === 'next-cluster' || command === 'previous-cluster') return setFocus(moveFocus(clusters, focus, command));
  if (!focus) return setFocus(moveFocus(clusters, null, 'next'));
  const { cluster_id, question_id: member } = focus;
  if (command === 'confirm' || command === 'dismiss') {
    decide(cluster_id, () => ({ action: command }));
    return setFocus(moveFocus(clusters, focus, 'next-cluster'));
  }
  decide(cluster_id, (cluster) => {
    if (member === cluster.canonical_question_id) return `#${member} is already the canonical question: move to another member (j) to ${command === 'reject' ? 'reject' : 'promote'} it.`;
    if (!cluster.members.some((m) => m.question_id === member)) return `#${member} has left cluster ${cluster_id}.`;
    return command === 'reject' ? { action: 'reject_members', question_ids: [member] } : { action: 'set_canonical', canonical_question_id: member };
  });
}

const COMMAND_OF_BUTTON: Record<string, KeyCommand> = { confirm: 'confirm', dismiss: 'dismiss', reject: 'reject', canonical: 'canonical' };

function focusOf(element: Element): Focus | null {
  const card = element.closest<HTMLElement>('.cluster');
  if (!card) return null;
  const cluster = clusters.find((c) => c.cluster_id === Number(card.dataset.clusterId));
  if (!cluster) return null;
  const member = element.closest<HTMLElement>('.member');
  return { cluster_id: cluster.cluster_id, question_id: member ? Number(member.dataset.questionId) : (orderedMembers(cluster)[1]?.question_id ?? cluster.canonical_question_id) };
}

function wire(taskId: number) {
  list.addEventListener('focusin', (event) => (focus = focusOf(event.target as Element) ?? focus));
  list.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLElement>('button[data-act]');
    if (!button) return;
    focus = focusOf(button);
    run(COMMAND_OF_BUTTON[button.dataset.act!]!);
  });
  document.addEventListener('keydown', (event) => {
    if (document.querySelector('dialog[open]')) return;
    const command = keyCommand(event);
    if (!command) return;
    event.preventDefault();
    run(command);
  });
  $('[data-page=prev]').addEventListener('click', () => go(address.page - 1));
  $('[data-page=next]').addEventListener('click', () => go(address.page + 1));

  const filters = $<HTMLFormElement>('#filters');
  for (const key of ['review', 'min_similarity', 'max_similarity'] as const) (filters.elements.namedItem(key) as HTMLInputElement).value = address.filters[key];
  filters.addEventListener('submit', (event) => event.preventDefault());
  filters.addEventListener('change', () => {
    const form = new FormData(filters);
    Object.assign(address.filters, readAddress(`?review=${form.get('review')}&min_similarity=${form.get('min_similarity')}&max_similarity=${form.get('max_similarity')}`).filters);
    go(1);
  });

  const name = $<HTMLInputElement>('#reviewer');
  name.value = reviewer.get();
  name.addEventListener('change', () => (name.value = reviewer.set(name.value)));
  $('#who').addEventListener('submit', (event) => event.preventDefault());

  setUpResolve(taskId, () => task?.confirmed_cluster_count, (result) => {
    $('#resolve-result').textContent = `${result.resolved_questions} questions resolved in ${result.clusters} clusters`;
    void loadPage().catch(failed);
  }, failed);
}

function goLive(taskId: number) {
  joinTaskRoom(taskId, {
    task(next, finished) {
      showTask(next);
      if (finished) void loadPage().catch(failed); // a finished re-run replaced the clusters
    },
    running() {
      if (task && task.status !== 'running') showTask({ ...task, status: 'running' });
    },
    reviewed(event) {
      progress = event.review_progress;
      showProgress();
      const shown = clusters.find((c) => c.cluster_id === event.cluster_id);
      if (shown) showCluster(applyReviewed(shown, event));
      const by = event.review.decided_by;
      if (by !== reviewer.get()) announce(`${by ?? 'someone'}: cluster ${event.cluster_id} ${event.review.state}`);
      refreshTaskSoon();
    },
    resolved(event) {
      // On the page that resolved, the answer says more (and may come first): keep it.
      const result = $('#resolve-result');
      if (!result.textContent?.startsWith(`${event.resolved_questions} questions resolved`)) result.textContent = `${event.resolved_questions} questions resolved`;
      announce(`${event.resolved_questions} questions resolved as duplicates`);
      refreshTaskSoon();
      void loadPage().catch(failed);
    },
    error: (message) => say(message, true),
  });
}

/** Without `?task=`, the screen lists the tasks to pick one from. */
async function listTasks() {
  $('#summary').hidden = true;
  $('#clusters .pager').hidden = true;
  $('#clusters .title').textContent = 'Choose a task to review';
  const page = await api.get<Page<ReviewTask>>('/api/dedup/tasks?page_size=100');
  const items = page.items.map((t) => h('li', {}, h('a', { href: `/review?task=${t.id}` }, `#${t.id} ${t.task_name}`), ` · ${t.status} · ${t.cluster_count} clusters`));
  list.replaceChildren(items.length ? h('ul', { class: 'tasks-list' }, ...items) : h('p', { class: 'message' }, 'No tasks yet: create one on the dashboard.'));
}

const tokenInput = $<HTMLInputElement>('#token');
tokenInput.value = token.get();
tokenInput.addEventListener('change', () => {
  token.set(tokenInput.value.trim());
  location.reload();
});

if (address.task === null) {
  $('#connection').hidden = true;
  $('#review-bar').hidden = true;
  listTasks().catch(failed);
} else {
  const taskId = address.task;
  wire(taskId);
  goLive(taskId);
  api.get<ReviewTask>(`/api/dedup/tasks/${taskId}`).then(showTask, failed);
  loadPage().catch(failed);
}
