/// <reference lib="dom" />
import type { Question } from '../../questions/question.schema.ts';
import type { ClusterView } from '../../tasks/result.repository.ts';
import { api } from './api.ts';
import { diffTexts, type Segment } from './diff.ts';
import { $, h } from './dom.ts';

const PAGE_SIZE = 10;

interface ClusterPage {
  items: ClusterView[];
  total: number;
  page: number;
  page_size: number;
}

const render = (segments: Segment[]) => segments.map((s) => (s.changed ? h('mark', {}, s.text) : s.text));

/** Per member, its text with what differs from the canonical question marked; the canonical marks what any member lacks. */
function memberTexts(cluster: ClusterView, contents: Map<number, string>): Map<number, Segment[]> {
  const canonical = contents.get(cluster.canonical_question_id) ?? '';
  const out = new Map<number, Segment[]>();
  const canonicalChanged: Segment[][] = [];
  for (const member of cluster.members) {
    if (member.question_id === cluster.canonical_question_id) continue;
    const diff = diffTexts(canonical, contents.get(member.question_id) ?? '');
    out.set(member.question_id, diff.right);
    canonicalChanged.push(diff.left);
  }
  // With one other member the canonical's own marks are exact; with more, show the first comparison.
  out.set(cluster.canonical_question_id, canonicalChanged[0] ?? [{ text: canonical, changed: false }]);
  return out;
}

function clusterCard(cluster: ClusterView, contents: Map<number, string>): HTMLElement {
  const texts = memberTexts(cluster, contents);
  const { type_name, subject_name, channel_code } = cluster.group;
  return h(
    'article',
    { class: 'cluster', 'data-cluster-id': cluster.cluster_id },
    h('header', {}, `Cluster ${cluster.cluster_id} · ${type_name} - ${subject_name} (${channel_code}) · ${cluster.members.length} questions`),
    h(
      'div',
      { class: 'members' },
      ...cluster.members.map((member) => {
        const canonical = member.question_id === cluster.canonical_question_id;
        return h(
          'section',
          { class: canonical ? 'member canonical' : 'member', 'data-question-id': member.question_id },
          h(
            'h4',
            {},
            `#${member.question_id}${canonical ? ' (canonical)' : ''}`,
            h('small', {}, canonical ? '' : ` distance ${member.distance} · similarity ${member.similarity.toFixed(2)}`),
          ),
          h('p', { class: 'content' }, ...render(texts.get(member.question_id) ?? [])),
        );
      }),
    ),
  );
}

/** Shows one page of a task's clusters in `root`, with the members' texts side by side. */
export async function showClusters(root: HTMLElement, taskId: number, page = 1): Promise<void> {
  root.hidden = false;
  $('.title', root).textContent = `Task #${taskId}: loading clusters…`;
  const list = $('.list', root);
  const data = await api.get<ClusterPage>(`/api/dedup/tasks/${taskId}/clusters?page=${page}&page_size=${PAGE_SIZE}`);
  const ids = [...new Set(data.items.flatMap((cluster) => cluster.members.map((member) => member.question_id)))];
  const questions = await Promise.all(ids.map((id) => api.get<Question>(`/api/questions/${id}`).catch(() => null)));
  const contents = new Map(questions.filter((q): q is Question => q !== null).map((q) => [q.id, q.content]));

  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  $('.title', root).textContent = `Task #${taskId}: ${data.total} clusters (page ${page} of ${pages})`;
  list.replaceChildren(...(data.items.length ? data.items.map((c) => clusterCard(c, contents)) : [h('p', {}, 'No duplicates found.')]));
  const prev = $('[data-page=prev]', root) as HTMLButtonElement;
  const next = $('[data-page=next]', root) as HTMLButtonElement;
  prev.disabled = page <= 1;
  next.disabled = page >= pages;
  prev.onclick = () => void showClusters(root, taskId, page - 1);
  next.onclick = () => void showClusters(root, taskId, page + 1);
  root.scrollIntoView({ behavior: 'smooth', block: 'start' });
}
