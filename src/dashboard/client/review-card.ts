/// <reference lib="dom" />
/** One cluster as the review screen shows it: every member's text with math, what differs from the canonical marked, why it is there. */
import { diffTexts, type Segment } from './diff.ts';
import { h } from './dom.ts';
import { mathTokens, renderSegments, tokenKey } from './math.ts';
import { questionText } from './question-text.ts';
import { orderedMembers } from './review-state.ts';
import type { MemberReason, Review, ReviewCluster, ReviewMember } from './review-types.ts';

/** Each member's text marked against the canonical's; the canonical is marked only when it has one other member to differ from. */
function markedTexts(cluster: ReviewCluster): Map<number, Segment[]> {
  const texts = new Map(cluster.members.map((m) => [m.question_id, m.question ? questionText(m.question) : '']));
  const canonical = texts.get(cluster.canonical_question_id) ?? '';
  const out = new Map<number, Segment[]>();
  const others = cluster.members.filter((m) => m.question_id !== cluster.canonical_question_id);
  for (const member of others) {
    const diff = diffTexts(canonical, texts.get(member.question_id) ?? '', mathTokens, tokenKey);
    out.set(member.question_id, diff.right);
    if (others.length === 1) out.set(cluster.canonical_question_id, diff.left);
  }
  if (!out.has(cluster.canonical_question_id)) out.set(cluster.canonical_question_id, [{ text: canonical, changed: false }]);
  return out;
}

const STAGE_LABEL: Record<MemberReason['stage'], string> = { exact: 'same text', similar: 'near duplicate', reviewed: 'joined by a reviewer' };

/** "near duplicate · verified: numbers, formulas, key words": why the engine put the member here. */
function reasonBadge(reason: MemberReason | null | undefined) {
  if (!reason) return null; // members stored before reasons existed have none
  // "same text · verified: text" says it twice: an exact member's text check is its stage.
  const shown = reason.stage === 'exact' ? reason.checks.filter((check) => check !== 'text') : reason.checks;
  const checks = shown.length ? ` · verified: ${shown.join(', ').replaceAll('_', ' ')}` : '';
  return h('span', { class: 'reason', 'data-stage': reason.stage, title: `stage: ${reason.stage}; checks that agree with the canonical question: ${reason.checks.join(', ') || 'none'}` }, `${STAGE_LABEL[reason.stage] ?? reason.stage}${checks}`);
}

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '');

/** "confirmed by alice · 04/12/2026, 21:03", or "not reviewed yet". */
export function reviewLabel(review: Review | undefined): string {
  if (!review || review.state === 'unreviewed') return 'not reviewed yet';
  const by = review.decided_by ? ` by ${review.decided_by}` : '';
  const at = review.decided_at ? ` · ${time(review.decided_at)}` : '';
  return `${review.state}${by}${at}${review.note ? ` · “${review.note}”` : ''}`;
}

function memberCard(member: ReviewMember, canonical: boolean, segments: Segment[]): HTMLElement {
  const q = member.question;
  const facts = canonical ? 'canonical' : `${(member.similarity * 100).toFixed(1)}% similar · distance ${member.distance}`;
  return h(
    'section',
    { class: canonical ? 'member canonical' : 'member', 'data-question-id': member.question_id, tabindex: -1 },
    h(
      'h4',
      {},
      h('span', { class: 'qid' }, `#${member.question_id}`),
      h('span', { class: 'facts' }, facts),
      q?.external_id ? h('small', { class: 'external' }, q.external_id) : null,
    ),
    canonical ? null : reasonBadge(member.reason),
    q?.duplicate_of != null ? h('p', { class: 'resolved' }, `resolved: duplicate of #${q.duplicate_of}`) : null,
    q ? h('div', { class: 'content' }, ...renderSegments(segments)) : h('p', { class: 'message error' }, 'this question is no longer in the bank'),
    canonical
      ? null
      : h(
          'div',
          { class: 'member-actions' },
          h('button', { type: 'button', class: 'secondary', 'data-act': 'reject', title: 'not a duplicate: take it out of the cluster (x)' }, 'Reject', h('kbd', {}, 'x')),
          h('button', { type: 'button', class: 'secondary', 'data-act': 'canonical', title: 'make this the question the others duplicate (c)' }, 'Make canonical', h('kbd', {}, 'c')),
        ),
  );
}

/** The card; the page's own click handler reads `data-act` and the ids from it, so the card holds no callbacks. */
export function clusterCard(cluster: ReviewCluster): HTMLElement {
  const texts = markedTexts(cluster);
  const { type_name, subject_name, channel_code } = cluster.group;
  const state = cluster.review?.state ?? 'unreviewed';
  return h(
    'article',
    { class: 'cluster', 'data-cluster-id': cluster.cluster_id, 'data-state': state },
    h(
      'header',
      {},
      h('strong', {}, `Cluster ${cluster.cluster_id}`),
      h('span', {}, `${type_name} - ${subject_name} (${channel_code}) · ${cluster.members.length} questions`),
      h('span', { class: 'review-state', 'data-state': state }, reviewLabel(cluster.review)),
    ),
    h('div', { class: 'members' }, ...orderedMembers(cluster).map((m) => memberCard(m, m.question_id === cluster.canonical_question_id, texts.get(m.question_id) ?? []))),
    h(
      'footer',
      { class: 'actions' },
      h('button', { type: 'button', 'data-act': 'confirm', title: 'these are the same question (y)' }, 'Confirm', h('kbd', {}, 'y')),
      h('button', { type: 'button', class: 'danger', 'data-act': 'dismiss', title: 'these are different questions (n)' }, 'Dismiss', h('kbd', {}, 'n')),
    ),
  );
}
