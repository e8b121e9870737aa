/**
 * The OpenAPI 3.1 document, generated from the zod schemas that validate requests
 * (`z.toJSONSchema`, input side, so defaults show as optional) and from ./schemas.ts for answers.
 */
import { z } from 'zod';
import { checkBody } from '../dedup/check.routes.ts';
import { groupsQuery, listQuestionsQuery } from '../questions/question.routes.ts';
import { questionInput } from '../questions/question.schema.ts';
import { clustersQuery, exportQuery } from '../tasks/task.routes.ts';
import { createTaskBody, listTasksQuery } from '../tasks/task.schema.ts';
import * as answers from './schemas.ts';
import { decisionsQuery, resolutionsQuery, resolveBody, reviewBody } from '../review/review.schema.ts';
import { SOCKET_EVENTS } from './events.ts';

type JsonSchema = Record<string, unknown>;

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const envelope = (data: JsonSchema) => ({
  type: 'object',
  required: ['code', 'message', 'data'],
  properties: { code: { type: 'integer', description: 'equals the HTTP status' }, message: { type: 'string' }, data },
});
const pageOf = (item: JsonSchema) => ({
  type: 'object',
  required: ['items', 'total', 'page', 'page_size'],
  properties: { items: { type: 'array', items: item }, total: { type: 'integer' }, page: { type: 'integer' }, page_size: { type: 'integer' } },
});

const ERROR_TEXT: Record<number, string> = {
  400: 'bad query or path parameter, malformed JSON',
  401: 'missing or wrong bearer token (only when AUTH_TOKENS is set)',
  404: 'no such resource',
  409: 'conflicts with the task state',
  413: 'body larger than MAX_BODY_MB',
  415: 'unsupported media type',
  422: 'body does not fit the schema; see `errors`',
  500: 'internal error (no details reach the client)',
};

interface Operation {
  method: 'get' | 'post' | 'delete';
  path: string;
  tag: 'questions' | 'tasks' | 'review' | 'service';
  summary: string;
  query?: z.ZodObject;
  body?: Record<string, JsonSchema>;
  status?: 200 | 201;
  data?: JsonSchema;
  /** A non-JSON answer (file download), keyed by media type. */
  file?: string[];
  errors?: number[];
  open?: boolean;
}

/** Every `{name}` of a path is a positive integer id. */
const pathParameters = (path: string) => [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }));

export const OPERATIONS: Operation[] = [
  { method: 'get', path: '/api/health', tag: 'service', summary: 'Liveness and what the service runs on; never needs a token', data: ref('Health'), open: true },
  {
    method: 'post',
    path: '/api/questions',
    tag: 'questions',
    summary: 'Import questions (idempotent by channel_code + external_id); a bad row is reported, never sinks the others',
    body: {
      'application/json': { oneOf: [{ type: 'array', items: ref('QuestionInput') }, { type: 'object', required: ['questions'], properties: { questions: { type: 'array', items: ref('QuestionInput') } } }] },
      'application/x-ndjson': { type: 'string', description: 'one QuestionInput JSON object per line; streamed, any size' },
      'text/csv': { type: 'string', description: 'a header row naming QuestionInput fields (content required); `options` and `answer` cells may hold JSON; streamed' },
    },
    status: 201,
    data: ref('ImportResult'),
    errors: [400, 413, 415, 422],
  },
  { method: 'get', path: '/api/questions', tag: 'questions', summary: 'List questions; q searches the content', query: listQuestionsQuery, data: pageOf(ref('Question')), errors: [400] },
  { method: 'get', path: '/api/questions/{id}', tag: 'questions', summary: 'One question', data: ref('Question'), errors: [400, 404] },
  { method: 'delete', path: '/api/questions/{id}', tag: 'questions', summary: 'Delete a question; answers the deleted row', data: ref('Question'), errors: [400, 404] },
  {
    method: 'get',
    path: '/api/groups',
    tag: 'questions',
    summary: 'Groups (type, subject, channel) with their question counts',
    query: groupsQuery,
    data: { type: 'array', items: { allOf: [ref('GroupKey'), { type: 'object', properties: { question_count: { type: 'integer' } } }] } },
    errors: [400],
  },
  { method: 'post', path: '/api/dedup/tasks', tag: 'tasks', summary: 'Create a dedup task (pending)', body: { 'application/json': ref('CreateTask') }, status: 201, data: ref('Task'), errors: [400, 415, 422] },
  { method: 'get', path: '/api/dedup/tasks', tag: 'tasks', summary: 'List tasks, newest first', query: listTasksQuery, data: pageOf(ref('Task')), errors: [400] },
  { method: 'get', path: '/api/dedup/tasks/{id}', tag: 'tasks', summary: 'One task', data: ref('Task'), errors: [400, 404] },
  { method: 'post', path: '/api/dedup/tasks/{id}/start', tag: 'tasks', summary: 'Start (or re-run) a task; progress goes to its Socket.IO room', data: ref('Task'), errors: [400, 404, 409] },
  { method: 'post', path: '/api/dedup/tasks/{id}/cancel', tag: 'tasks', summary: 'Cancel a running task; its room gets task_error "cancelled"', data: ref('Task'), errors: [400, 404, 409] },
  { method: 'delete', path: '/api/dedup/tasks/{id}', tag: 'tasks', summary: 'Delete a task and its results', data: ref('Task'), errors: [400, 404, 409] },
  { method: 'get', path: '/api/dedup/tasks/{id}/groups', tag: 'tasks', summary: "The task's groups with status and timings", data: { type: 'array', items: ref('TaskGroup') }, errors: [400, 404] },
  { method: 'get', path: '/api/dedup/tasks/{id}/clusters', tag: 'tasks', summary: 'Clusters of near-duplicates, canonical question first', query: clustersQuery, data: pageOf(ref('Cluster')), errors: [400, 404] },
  {
    method: 'post',
    path: '/api/dedup/check',
    tag: 'tasks',
    summary: "A question's near-duplicates in the bank, best first; nothing is stored",
    body: { 'application/json': ref('CheckQuestion') },
    data: { type: 'array', items: ref('CheckHit') },
    errors: [400, 413, 415, 422],
  },
  { method: 'get', path: '/api/dedup/tasks/{id}/export', tag: 'tasks', summary: 'Every duplicate pair as a file download', query: exportQuery, file: ['text/csv', 'application/x-ndjson'], errors: [400, 404] },
  {
    method: 'post',
    path: '/api/dedup/tasks/{id}/clusters/{cluster_id}/review',
    tag: 'review',
    summary: 'Confirm, dismiss, reject members of, or choose the canonical question of a cluster; pair decisions are remembered in the bank; the room gets cluster_reviewed',
    body: { 'application/json': ref('ReviewAction') },
    data: ref('Cluster'),
    errors: [400, 404, 409, 415, 422],
  },
  { method: 'get', path: '/api/dedup/decisions', tag: 'review', summary: 'Remembered pair decisions, newest first; lapsed ones (a question changed) no longer count', query: decisionsQuery, data: pageOf(ref('Decision')), errors: [400] },
  { method: 'delete', path: '/api/dedup/decisions/{id}', tag: 'review', summary: 'Forget a decision; later runs no longer honour it', data: ref('Decision'), errors: [400, 404] },
  {
    method: 'post',
    path: '/api/dedup/tasks/{id}/resolve',
    tag: 'review',
    summary: "Every non-canonical member of the task's confirmed clusters gets duplicate_of; the room gets task_resolved",
    body: { 'application/json': ref('Resolve') },
    data: ref('ResolveResult'),
    errors: [400, 404, 409, 415, 422],
  },
  { method: 'post', path: '/api/questions/{id}/restore', tag: 'review', summary: 'Make a resolved question active again (duplicate_of cleared)', data: ref('Question'), errors: [400, 404] },
  {
    method: 'get',
    path: '/api/dedup/resolutions',
    tag: 'review',
    summary: 'Every resolved question (question_id, external_id, channel_code, duplicate_of, duplicate_of_external_id, decided_by, resolved_at) as a streamed download',
    query: resolutionsQuery,
    file: ['text/csv', 'application/x-ndjson'],
    errors: [400],
  },
];

function queryParameters(schema: z.ZodObject) {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: !(field as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(field as z.ZodType, 'input'),
  }));
}

function operation(op: Operation) {
  const status = op.status ?? 200;
  const success = op.file
    ? { description: 'file download', content: Object.fromEntries(op.file.map((type) => [type, { schema: { type: 'string' } }])) }
    : { description: status === 201 ? 'created' : 'ok', content: { 'application/json': { schema: envelope(op.data ?? {}) } } };
  const errors = [...(op.errors ?? []), ...(op.open ? [] : [401]), 500].sort((a, b) => a - b);
  return {
    tags: [op.tag],
    summary: op.summary,
    ...(op.open ? { security: [] } : {}),
    parameters: [...pathParameters(op.path), ...(op.query ? queryParameters(op.query) : [])],
    ...(op.body ? { requestBody: { required: true, content: Object.fromEntries(Object.entries(op.body).map(([type, schema]) => [type, { schema }])) } } : {}),
    responses: {
      [status]: success,
      ...Object.fromEntries(errors.map((code) => [code, { description: ERROR_TEXT[code], content: { 'application/json': { schema: ref('Error') } } }])),
    },
  };
}

export function buildOpenApi(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Question-bank dedup service',
      version,
      description:
        'Every answer is the envelope `{ code, message, data }`; `code` equals the HTTP status. Live task progress is pushed over Socket.IO at `/socket.io/` on the same port: see `x-socketio` below and the docs page at `/api/docs`.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'questions', description: 'The question bank' },
      { name: 'tasks', description: 'Dedup tasks and their results' },
      { name: 'review', description: 'Review clusters, remembered pair decisions, resolution (docs/review.md)' },
      { name: 'service', description: 'Health' },
    ],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Only when the service runs with AUTH_TOKENS' } },
      schemas: {
        QuestionInput: jsonSchema(questionInput, 'input'),
        CreateTask: jsonSchema(createTaskBody, 'input'),
        CheckQuestion: jsonSchema(checkBody, 'input'),
        Task: jsonSchema(answers.task),
        Question: jsonSchema(answers.question),
        Cluster: jsonSchema(answers.cluster),
        ReviewAction: jsonSchema(reviewBody, 'input'),
        Resolve: jsonSchema(resolveBody, 'input'),
        Decision: jsonSchema(answers.decision),
        ResolveResult: jsonSchema(answers.resolveResult),
        CheckHit: jsonSchema(answers.checkHit),
        ClusterReviewed: jsonSchema(answers.clusterReviewed),
        TaskResolved: jsonSchema(answers.taskResolved),
        ImportResult: jsonSchema(answers.importResult),
        TaskGroup: jsonSchema(answers.taskGroup),
        GroupKey: jsonSchema(answers.groupKey),
        Health: jsonSchema(answers.health),
        TaskProgress: jsonSchema(answers.taskProgress),
        Error: jsonSchema(answers.errorEnvelope),
      },
    },
    'x-socketio': {
      path: '/socket.io/',
      transports: ['websocket', 'polling'],
      auth: 'when AUTH_TOKENS is set, connect with auth: { token }',
      types: 'src/realtime/events.ts exports ServerToClientEvents, ClientToServerEvents and the payload types',
      events: SOCKET_EVENTS.map(({ name, direction, to, description, payload }) => ({ name, direction, to, description, payload })),
    },
  };
}
