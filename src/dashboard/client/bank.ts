/// <reference lib="dom" />
/** The question bank panel: groups with their counts, and a search over question texts. */
import type { Page } from '../../http/pagination.ts';
import type { Question } from '../../questions/question.schema.ts';
import type { GroupKey } from '../../realtime/events.ts';
import { api } from './api.ts';
import { $, h } from './dom.ts';

type GroupCount = GroupKey & { question_count: number };

export async function showGroups(root: HTMLElement): Promise<void> {
  const groups = await api.get<GroupCount[]>('/api/groups');
  const total = groups.reduce((sum, g) => sum + g.question_count, 0);
  $('.bank-summary', root).textContent = `${total} questions in ${groups.length} groups`;
  const head = h('tr', {}, ...['type', 'subject', 'channel', 'questions'].map((v) => h('th', {}, v)));
  const rows = groups.map((g) => h('tr', {}, ...[g.type_name, g.subject_name, g.channel_code, String(g.question_count)].map((v) => h('td', {}, v))));
  $('.bank-groups', root).replaceChildren(groups.length ? h('table', {}, head, ...rows) : 'The bank is empty: import a file above.');
}

export async function searchQuestions(root: HTMLElement, text: string): Promise<void> {
  const results = $('.bank-results', root);
  if (text.trim() === '') return void results.replaceChildren();
  const page = await api.get<Page<Question>>(`/api/questions?q=${encodeURIComponent(text.trim())}&page_size=20`);
  const items = page.items.map((q) =>
    h(
      'li',
      { 'data-question-id': q.id },
      h('small', {}, `#${q.id} · ${q.type_name} - ${q.subject_name} (${q.channel_code})${q.external_id ? ` · ${q.external_id}` : ''}`),
      h('p', { class: 'content' }, q.content),
    ),
  );
  results.replaceChildren(h('p', { class: 'message' }, `${page.total} found${page.total > 20 ? ', first 20 shown' : ''}`), h('ul', {}, ...items));
}
