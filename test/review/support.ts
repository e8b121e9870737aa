import { expect } from 'bun:test';
import type { ClusterReview } from '../../src/review/review.schema.ts';
import type { TestService } from '../support/service.ts';

export async function waitForEnd(service: TestService, id: number, headers: Record<string, string> = {}) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const task = (await service.api('GET', `/api/dedup/tasks/${id}`, undefined, headers)).body.data;
    if (task.status !== 'running') return task;
    if (Date.now() > deadline) throw new Error(`task ${id} still running`);
    await Bun.sleep(20);
  }
}

/** Creates a task (body fields besides task_name optional), runs it to completion, returns it. */
export async function runTask(service: TestService, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const created = await service.api('POST', '/api/dedup/tasks', { task_name: 'review', ...body }, headers);
  expect(created.status).toBe(201);
  return rerun(service, created.body.data.id, headers);
}

export async function rerun(service: TestService, id: number, headers: Record<string, string> = {}) {
  const started = await service.api('POST', `/api/dedup/tasks/${id}/start`, undefined, headers);
  expect(started.status).toBe(200);
  const task = await waitForEnd(service, id, headers);
  expect(task.status).toBe('completed');
  return task;
}

export interface ClusterItem {
  cluster_id: number;
  canonical_question_id: number;
  members: { question_id: number; distance: number; similarity: number; question?: { id: number; content: string } | null }[];
  review: ClusterReview;
}

export async function clusters(service: TestService, taskId: number, query = '', headers: Record<string, string> = {}): Promise<{ items: ClusterItem[]; total: number }> {
  const response = await service.api('GET', `/api/dedup/tasks/${taskId}/clusters?page_size=500${query}`, undefined, headers);
  expect(response.status).toBe(200);
  return response.body.data;
}

/** REVIEW_BANK's external ids. */
export type BankIds = Record<'m1' | 'm2' | 'm3' | 'm4' | 'm5' | 's1' | 's2' | 'p1' | 'p2' | 'p3', number>;

/** The bank's question ids by external id. */
export async function idsByExternal(service: TestService, headers: Record<string, string> = {}): Promise<BankIds> {
  const { items } = (await service.api('GET', '/api/questions?page_size=500', undefined, headers)).body.data;
  return Object.fromEntries(items.map((q: { id: number; external_id: string }) => [q.external_id, q.id])) as BankIds;
}

/** A cluster as the membership of its questions (canonical first, then sorted), for comparing runs. */
export const shape = (cluster: ClusterItem) => [cluster.canonical_question_id, ...cluster.members.map((m) => m.question_id).filter((id) => id !== cluster.canonical_question_id).sort((a, b) => a - b)];
