import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { AppError, fieldErrors, notFound, ok } from '../http/errors.ts';
import { offsetOf, paginationQuery } from '../http/pagination.ts';
import { mediaType, parseId, parseQuery, readJson } from '../http/validate.ts';
import { csvRowToObject, readCsvRecords } from './csv.ts';
import { nextTurn } from '../pace.ts';
import { readLines } from './ndjson.ts';
import { groupFilterQuery, questionInput, type QuestionInput } from './question.schema.ts';
import { deleteQuestion, findQuestion, listGroups, listQuestions, upsertQuestions, type ImportCounts } from './question.repository.ts';

const BATCH_SIZE = 1000;
/**
 * Rows handled between two turns of the event loop. A request body may arrive in chunks of
 * megabytes, and a chunk's rows are otherwise parsed, validated and saved without a pause:
 * hundreds of milliseconds in which no other request, socket event or timer runs.
 */
const ROWS_PER_TURN = 200;
const MAX_LINE_BYTES = 1024 * 1024;
/** A file of bad rows must not grow the response without bound; the count stays exact. */
const MAX_REPORTED_REJECTIONS = 1000;

export const listQuestionsQuery = z.object({ ...groupFilterQuery, ...paginationQuery });
export const groupsQuery = z.object(groupFilterQuery);

interface ImportResult extends ImportCounts {
  rejected: { index: number; message: string }[];
  rejected_count: number;
}

/** Validates rows one by one and writes the good ones in batches; a bad row never sinks the others. */
class ImportSession {
  readonly result: ImportResult = { inserted: 0, updated: 0, unchanged: 0, rejected: [], rejected_count: 0 };
  private batch: QuestionInput[] = [];
  private sinceTurn = 0;

  constructor(private readonly save: (batch: QuestionInput[]) => Promise<ImportCounts>) {}

  /** Rejects a row that never reached validation (malformed line); the caller awaits `pace()` next. */
  reject(index: number, message: string) {
    this.result.rejected_count++;
    if (this.result.rejected.length < MAX_REPORTED_REJECTIONS) this.result.rejected.push({ index, message });
  }

  /** Lets the event loop run every ROWS_PER_TURN rows, whatever the size of the body's chunks. */
  async pace() {
    if (++this.sinceTurn < ROWS_PER_TURN) return;
    this.sinceTurn = 0;
    await nextTurn();
  }

  async add(index: number, value: unknown) {
    const parsed = questionInput.safeParse(value);
    if (!parsed.success) {
      const first = fieldErrors(parsed.error)[0];
      this.reject(index, first ? `${first.path || 'row'}: ${first.message}` : 'invalid question');
    } else {
      this.batch.push(parsed.data);
      if (this.batch.length >= BATCH_SIZE) await this.flush();
    }
    await this.pace();
  }

  async flush() {
    if (this.batch.length === 0) return;
    const counts = await this.save(this.batch);
    this.batch = [];
    this.result.inserted += counts.inserted;
    this.result.updated += counts.updated;
    this.result.unchanged += counts.unchanged;
  }
}

export function questionRoutes({ db, now, bank }: AppDeps) {
  const app = new Hono();
  const session = () => new ImportSession((batch) => upsertQuestions(db, batch, now()));

  app.post('/questions', async (c) => {
    const type = mediaType(c);
    const importing = session();
    if (type === 'application/x-ndjson') {
      const body = c.req.raw.body;
      if (body) {
        for await (const line of readLines(body, MAX_LINE_BYTES)) {
          if ('tooLong' in line) {
            importing.reject(line.index, `line is longer than ${MAX_LINE_BYTES} bytes`);
            await importing.pace();
            continue;
          }
          if (line.text.trim() === '') continue;
          let value: unknown;
          try {
            value = JSON.parse(line.text);
          } catch (error) {
            importing.reject(line.index, `malformed JSON: ${(error as Error).message}`);
            await importing.pace();
            continue;
          }
          await importing.add(line.index, value);
        }
      }
    } else if (type === 'text/csv') {
      // The header row names the question fields; data rows are indexed from 0 like a JSON array.
      const body = c.req.raw.body;
      let header: string[] | undefined;
      if (body) {
        for await (const record of readCsvRecords(body, MAX_LINE_BYTES)) {
          if (!header) {
            if ('tooLong' in record) throw new AppError(422, 'the CSV header row is too long');
            header = record.fields.map((name) => name.trim());
            if (!header.includes('content')) {
              throw new AppError(422, 'the CSV header row must name the question fields, content among them', [
                { path: 'header', message: `got: ${header.join(',').slice(0, 200)}` },
              ]);
            }
            continue;
          }
          const index = record.index - 1;
          if ('tooLong' in record) {
            importing.reject(index, `row is longer than ${MAX_LINE_BYTES} characters`);
            await importing.pace();
          } else await importing.add(index, csvRowToObject(header, record.fields));
        }
      }
    } else {
      const body = await readJson(c);
      const rows = Array.isArray(body) ? body : (body as { questions?: unknown } | null)?.questions;
      if (!Array.isArray(rows)) {
        throw new AppError(422, 'the body must be an array of questions or { "questions": [...] }', [
          { path: 'questions', message: 'expected an array' },
        ]);
      }
      for (const [index, row] of rows.entries()) await importing.add(index, row);
    }
    await importing.flush();
    // New and changed questions get their prints in the background once imports go quiet.
    if (importing.result.inserted + importing.result.updated > 0) bank.scheduleBackfill();
    return ok(c, importing.result, 201);
  });

  app.get('/questions', async (c) => {
    const query = parseQuery(c, listQuestionsQuery);
    const { items, total } = await listQuestions(db, query, offsetOf(query), query.page_size);
    return ok(c, { items, total, page: query.page, page_size: query.page_size });
  });

  app.get('/questions/:id', async (c) => {
    const question = await findQuestion(db, parseId(c));
    if (!question) throw notFound('question');
    return ok(c, question);
  });

  app.delete('/questions/:id', async (c) => {
    const question = await deleteQuestion(db, parseId(c));
    if (question) bank.forget(question.id);
    if (!question) throw notFound('question');
    return ok(c, question);
  });

  app.get('/groups', async (c) => ok(c, await listGroups(db, parseQuery(c, groupsQuery))));

  return app;
}
