/** The review screen's pure logic: filters in the address, keys, focus moves, merging live decisions. */
import { REVIEW_STATES, type ClusterReviewedPayload, type ReviewCluster, type ReviewState } from './review-types.ts';

export const PAGE_SIZE = 10;

export interface Filters {
  review: ReviewState | '';
  min_similarity: string;
  max_similarity: string;
}

export interface ScreenAddress {
  task: number | null;
  page: number;
  filters: Filters;
}

const similarity = (value: string | null) => (value !== null && value.trim() !== '' && Number(value) >= 0 && Number(value) <= 1 ? value.trim() : '');

/** `/review?task=3&review=unreviewed&min_similarity=0.9&page=2`: a reload or a shared link shows the same page. */
export function readAddress(search: string): ScreenAddress {
  const params = new URLSearchParams(search);
  const task = Number(params.get('task'));
  const page = Number(params.get('page'));
  const review = params.get('review') ?? '';
  return {
    task: Number.isInteger(task) && task > 0 ? task : null,
    page: Number.isInteger(page) && page > 0 ? page : 1,
    filters: {
      review: (REVIEW_STATES as readonly string[]).includes(review) ? (review as ReviewState) : '',
      min_similarity: similarity(params.get('min_similarity')),
      max_similarity: similarity(params.get('max_similarity')),
    },
  };
}

function filterParams(filters: Filters): [string, string][] {
  return (['review', 'min_similarity', 'max_similarity'] as const).filter((key) => filters[key] !== '').map((key) => [key, filters[key]]);
}

export function writeAddress({ task, page, filters }: ScreenAddress): string {
  const params = new URLSearchParams([...(task === null ? [] : [['task', String(task)]]), ...filterParams(filters)]);
  if (page > 1) params.set('page', String(page));
  return `?${params}`;
}

/** One call per page: the clusters with their questions (`include=questions`), filtered as chosen. */
export function clustersPath(taskId: number, page: number, filters: Filters, pageSize = PAGE_SIZE): string {
  const params = new URLSearchParams([['include', 'questions'], ['page', String(page)], ['page_size', String(pageSize)], ...filterParams(filters)]);
  return `/api/dedup/tasks/${taskId}/clusters?${params}`;
}

export type KeyCommand = 'next' | 'previous' | 'next-cluster' | 'previous-cluster' | 'confirm' | 'dismiss' | 'reject' | 'canonical' | 'help';

const KEYS: Record<string, KeyCommand> = {
  j: 'next', k: 'previous', J: 'next-cluster', K: 'previous-cluster',
  y: 'confirm', n: 'dismiss', x: 'reject', c: 'canonical', '?': 'help',
};

/** The command a key press means; none while typing in a field or with Ctrl/Alt/Meta (browser shortcuts stay theirs). */
export function keyCommand(event: { key: string; ctrlKey: boolean; altKey: boolean; metaKey: boolean; target: EventTarget | null }): KeyCommand | null {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  const target = event.target as { tagName?: string; isContentEditable?: boolean } | null;
  if (target && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName ?? ''))) return null;
  return KEYS[event.key] ?? null;
}

/** Canonical question first, then the others as the service ranks them (closest first). */
export function orderedMembers(cluster: ReviewCluster): ReviewCluster['members'] {
  const canonical = cluster.members.filter((m) => m.question_id === cluster.canonical_question_id);
  return [...canonical, ...cluster.members.filter((m) => m.question_id !== cluster.canonical_question_id)];
}

/** Which member has the keyboard: a cluster and one of its questions. */
export interface Focus {
  cluster_id: number;
  question_id: number;
}

/** The member a cluster is entered at: its first non-canonical one (what x and c act on), else the canonical. */
function entry(cluster: ReviewCluster): Focus {
  const members = orderedMembers(cluster);
  const member = members[1] ?? members[0];
  return { cluster_id: cluster.cluster_id, question_id: member?.question_id ?? cluster.canonical_question_id };
}

/**
 * The focus after a move: j/k step through every member of the page in reading order, J/K (and
 * y/n, which move on after deciding) jump to the next or previous cluster. Stays put at either end.
 */
export function moveFocus(clusters: ReviewCluster[], focus: Focus | null, move: 'next' | 'previous' | 'next-cluster' | 'previous-cluster'): Focus | null {
  if (clusters.length === 0) return null;
  const at = focus ? clusters.findIndex((c) => c.cluster_id === focus.cluster_id) : -1;
  if (at < 0) return entry(clusters[move.startsWith('previous') ? clusters.length - 1 : 0]!);
  if (move === 'next-cluster') return entry(clusters[Math.min(at + 1, clusters.length - 1)]!);
  if (move === 'previous-cluster') return entry(clusters[Math.max(at - 1, 0)]!);
  const order = clusters.flatMap((c) => orderedMembers(c).map((m) => ({ cluster_id: c.cluster_id, question_id: m.question_id })));
  const here = order.findIndex((f) => f.cluster_id === focus!.cluster_id && f.question_id === focus!.question_id);
  if (here < 0) return entry(clusters[at]!);
  return order[Math.max(0, Math.min(order.length - 1, here + (move === 'next' ? 1 : -1)))]!;
}

/**
 * A cluster after a `cluster_reviewed` event: its new review, canonical and members, each member
 * keeping the question the page already loaded (events carry ids, not questions).
 */
export function applyReviewed(cluster: ReviewCluster, event: Pick<ClusterReviewedPayload, 'canonical_question_id' | 'members'> & { review?: ReviewCluster['review'] }): ReviewCluster {
  const questions = new Map(cluster.members.map((m) => [m.question_id, m.question]));
  return {
    ...cluster,
    review: event.review ?? cluster.review,
    canonical_question_id: event.canonical_question_id,
    members: event.members.map((m) => ({ ...m, question: m.question ?? questions.get(m.question_id) })),
  };
}

/**
 * Whether a review answer is older than what the page shows. Events arrive in the service's order,
 * but a slow answer to our own request may land after another reviewer's later decision: the later one wins.
 */
export function isStale(shown: ReviewCluster['review'], incoming: ReviewCluster['review']): boolean {
  if (!shown?.decided_at || !incoming?.decided_at) return false;
  return Date.parse(incoming.decided_at) < Date.parse(shown.decided_at);
}

export function progressPercent(reviewed: number, total: number): number {
  return total > 0 ? Math.round((reviewed / total) * 10_000) / 100 : 0;
}
