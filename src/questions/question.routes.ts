import { Hono, type Context } from 'hono';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { AppError, notFound, ok } from '../http/errors.ts';
import { offsetOf, paginationQuery } from '../http/pagination.ts';
import { mediaType, parseId, parseQuery, readJson } from '../http/validate.ts';
import { csvRowToObject, readCsvRecords } from './csv.ts';
import { nextTurn } from '../pace.ts';
import { coalesce } from './coalesce.ts';
import { ParserFailedError, type NdjsonParseSession } from './ndjson-parser.ts';
import { INVALID_UTF8, type ParsedChunk, type RowRejection } from './ndjson-rows.ts';
import { unpackRows } from './packed-rows.ts';
import { groupFilterQuery } from './question.schema.ts';
import { deleteQuestion, findQuestion, upsertStoredQuestions, type ImportCounts } from './question.repository.ts';
import { listGroups, listQuestions } from './question-listing.ts';
import { validateRow, type StoredQuestion } from './stored-question.ts';

/**
 * Rows saved in one transaction. Each commit rewrites the index pages its rows touched (a few
 * per group: the group index, and before migration 014 the print backlog), so larger batches write
 * fewer pages a row. With short rows over 2,000 groups a 2,000-row batch touched about as many
 * pages as it had rows: 10,000 cut the main thread's time a row from ~29 to ~19 µs (issue 15,
 * docs/no-stall.md). The transaction yields between its INSERT statements, so a larger batch
 * does not hold the event loop longer (other writes wait for the connection a little longer).
 */
const BATCH_SIZE = 10_000;
/**
 * Rows handled between two turns of the event loop. A request body may arrive in chunks of
 * megabytes, and a chunk's rows are otherwise parsed, validated and saved without a pause:
 * hundreds of milliseconds in which no other request, socket event or timer runs.
 */
const ROWS_PER_TURN = 200;
const MAX_LINE_BYTES = 1024 * 1024;
/**
 * NDJSON body bytes parsed (or being parsed) ahead of the rows being saved: about a batch of
 * short rows, so the parsing thread works through a batch's save instead of idling after a few
 * chunks (with 4 chunks of 64 KB the main thread then waited for it ~20 % of an import, issue 15).
 */
const BYTES_AHEAD = 2 * 1024 * 1024;
/** Small body chunks are joined up to this size before going to the parsing thread: each message costs a round trip. */
const MIN_CHUNK_BYTES = 64 * 1024;
/** A file of bad rows must not grow the response without bound; the count stays exact. */
const MAX_REPORTED_REJECTIONS = 1000;

export const listQuestionsQuery = z.object({ ...groupFilterQuery, status: z.enum(['active', 'duplicate']).optional(), ...paginationQuery });
export const groupsQuery = z.object(groupFilterQuery);

interface ImportResult extends ImportCounts {
  rejected: RowRejection[];
  rejected_count: number;
}

/** Validates rows one by one and writes the good ones in batches; a bad row never sinks the others. */
class ImportSession {
  readonly result: ImportResult = { inserted: 0, updated: 0, unchanged: 0, rejected: [], rejected_count: 0 };
  private batch: StoredQuestion[] = [];
  private sinceTurn = 0;
  /** The batch being saved while the next one fills (parsed imports); its failure surfaces at the next save or flush. */
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly save: (batch: StoredQuestion[]) => Promise<ImportCounts>) {}

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
    const checked = validateRow(value);
    if ('message' in checked) this.reject(index, checked.message);
    else {
      this.batch.push(checked.row);
      if (this.batch.length >= BATCH_SIZE) await this.flush();
    }
    await this.pace();
  }

  /**
   * A chunk the parsing thread has already validated: its rows are unpacked into the batch, and
   * a full batch starts saving while the next one fills. A save is a run of statements with
   * turns of the event loop between them (and may wait for the WAL's checkpoint): the next
   * chunks are received and unpacked in those turns, where the main thread used to sit idle.
   */
  async addParsed(parsed: ParsedChunk) {
    for (const { index, message } of parsed.rejected) this.reject(index, message);
    for (const row of unpackRows(parsed.rows)) {
      this.batch.push(row);
      if (this.batch.length >= BATCH_SIZE) {
        await this.startSaving();
        await nextTurn();
      }
    }
  }

  /** Saves the batch once the previous save is done (one at a time, in order), without waiting for it. */
  private async startSaving() {
    const batch = this.batch;
    this.batch = [];
    await this.saving;
    const saving = this.save(batch).then((counts) => this.count(counts));
    // Awaited later; until then its rejection is not an unhandled one.
    saving.catch(() => {});
    this.saving = saving;
  }

  async flush() {
    await this.saving;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.count(await this.save(batch));
  }

  private count(counts: ImportCounts) {
    this.result.inserted += counts.inserted;
    this.result.updated += counts.updated;
    this.result.unchanged += counts.unchanged;
  }
}

/**
 * Streams an NDJSON body through the parsing thread, up to BYTES_AHEAD ahead of the rows being
 * saved: the thread parses the next chunks while this thread inserts, and memory stays
 * bounded by those bytes (and two batches) whatever the size of the body.
 */
async function importNdjson(body: AsyncIterable<Uint8Array>, parsing: NdjsonParseSession, importing: ImportSession) {
  const ahead: { parsed: Promise<ParsedChunk>; bytes: number }[] = [];
  let bytesAhead = 0;
  const send = (parsed: Promise<ParsedChunk>, bytes: number) => {
    // Only the oldest is awaited; if the thread fails, the others' rejections are expected, not unhandled.
    parsed.catch(() => {});
    ahead.push({ parsed, bytes });
    bytesAhead += bytes;
  };
  const addOldest = async () => {
    const { parsed, bytes } = ahead.shift()!;
    bytesAhead -= bytes;
    await importing.addParsed(await parsed);
  };
  try {
    for await (const chunk of coalesce(body, MIN_CHUNK_BYTES)) {
      send(parsing.push(chunk), chunk.byteLength);
      while (bytesAhead >= BYTES_AHEAD) await addOldest();
    }
    send(parsing.end(), 0);
    while (ahead.length > 0) await addOldest();
  } catch (error) {
    parsing.abort();
    if (!(error instanceof ParserFailedError)) throw error;
    // Every row parsed before the failure is saved; the file can be sent again (rows with an external_id are updated in place).
    await importing.flush();
    const { inserted, updated, unchanged, rejected_count } = importing.result;
    throw new AppError(
      500,
      `the import stopped: ${error.message}; rows before the failure were saved (inserted ${inserted}, updated ${updated}, unchanged ${unchanged}, rejected ${rejected_count})`,
    );
  }
}

/**
 * The request body as it arrives. Under @hono/node-server (the service's server, main.ts) that
 * is the Node request itself, read directly: the web stream the adapter wraps around it copies
 * every chunk through `new Uint8Array(buffer)`, which Bun runs element by element (~4 ns a
 * byte, 2-5 µs of the main thread per short row). Elsewhere (`app.request` in tests), the
 * standard body stream.
 */
function requestBody(c: Context): AsyncIterable<Uint8Array> | null {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof Readable) return incoming as AsyncIterable<Uint8Array>;
  return c.req.raw.body;
}

export function questionRoutes({ db, now, bank, ndjsonParser }: AppDeps) {
  const app = new Hono();
  const session = () => new ImportSession((batch) => upsertStoredQuestions(db, batch, now()));

  app.post('/questions', async (c) => {
    const type = mediaType(c);
    const importing = session();
    if (type === 'application/x-ndjson') {
      const body = requestBody(c);
      if (body) await importNdjson(body, ndjsonParser.open(MAX_LINE_BYTES), importing);
    } else if (type === 'text/csv') {
      // The header row names the question fields; data rows are indexed from 0 like a JSON array.
      const body = c.req.raw.body;
      let header: string[] | undefined;
      if (body) {
        for await (const record of readCsvRecords(body, MAX_LINE_BYTES)) {
          if (!header) {
            if ('tooLong' in record) throw new AppError(422, 'the CSV header row is too long');
            if ('invalidUtf8' in record) throw new AppError(422, 'the CSV header row is not valid UTF-8');
            header = record.fields.map((name) => name.trim());
            if (!header.includes('content')) {
              throw new AppError(422, 'the CSV header row must name the question fields, content among them', [
                { path: 'header', message: `got: ${header.join(',').slice(0, 200)}` },
              ]);
            }
            continue;
          }
          const index = record.index - 1;
          if ('tooLong' in record || 'invalidUtf8' in record) {
            importing.reject(index, 'tooLong' in record ? `row is longer than ${MAX_LINE_BYTES} characters` : INVALID_UTF8);
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
    const { page, page_size, ...filter } = parseQuery(c, listQuestionsQuery);
    // The filter alone: with the page fields in it, listQuestions took every listing for a filtered
    // one and counted the whole bank for its total (~2 s of 40 ms statements at a million rows).
    const { items, total } = await listQuestions(db, filter, offsetOf({ page, page_size }), page_size);
    return ok(c, { items, total, page, page_size });
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
