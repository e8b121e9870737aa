import { afterAll, describe, expect, it } from 'bun:test';
import { NdjsonParser, ParserFailedError } from '../src/questions/ndjson-parser.ts';
import { NdjsonRowParser, type ParsedChunk } from '../src/questions/ndjson-rows.ts';
import { decodeTextFields, packRows, unpackRows } from '../src/questions/packed-rows.ts';
import { legacyRowHash, rowHash, toStoredFields, validateRow, type StoredQuestion } from '../src/questions/stored-question.ts';
import { questionInput } from '../src/questions/question.schema.ts';

const lines = [
  JSON.stringify({ external_id: 'a-1', type_name: '单选题', subject_name: '数学', content: '  已知 𝑥∈ℝ，求 f(x) 的最小值  ', options: ['甲', '乙'], answer: 'A' }),
  '{"type_name": "填空题", "subject_name": "物理", "content": "缺右括号"',
  '',
  JSON.stringify({ external_id: 7, type_name: '解答题', subject_name: '化学', channel_code: 'c2', content: '含 emoji 😀 的题', options: { A: 'é', B: '' }, analysis: '' }),
  JSON.stringify({ type_name: '单选题', subject_name: '数学', content: '   ' }),
  JSON.stringify({ type_name: '单选题', subject_name: '数学', content: '最后一行没有换行', answer: [1, 'B'] }),
];
const body = new TextEncoder().encode(lines.join('\n'));

/** Rows with their long fields as strings, so rows from bytes and rows from strings compare equal. */
const asStrings = (rows: StoredQuestion[]): StoredQuestion[] =>
  rows.map((row) => {
    const copy = { ...row };
    decodeTextFields(copy);
    return copy;
  });

function parseInPieces(cuts: number[]): { rows: StoredQuestion[]; rejected: ParsedChunk['rejected'] } {
  const parser = new NdjsonRowParser(1000);
  const chunks: ParsedChunk[] = [];
  let start = 0;
  for (const cut of [...cuts, body.length]) {
    chunks.push(parser.push(body.subarray(start, cut)));
    start = cut;
  }
  chunks.push(parser.end());
  return { rows: asStrings(chunks.flatMap((chunk) => unpackRows(chunk.rows))), rejected: chunks.flatMap((chunk) => chunk.rejected) };
}

describe('NdjsonRowParser', () => {
  const whole = parseInPieces([]);

  it('turns lines into stored rows and numbered rejections, with the messages of the in-thread path', () => {
    const expectedRows = [lines[0], lines[3], lines[5]].map((line) => toStoredFields(questionInput.parse(JSON.parse(line!))));
    expect(whole.rows).toEqual(expectedRows);
    expect(whole.rows[0]!.content).toBe('已知 𝑥∈ℝ，求 f(x) 的最小值');
    expect(whole.rejected.map((r) => r.index)).toEqual([1, 4]);
    expect(whole.rejected[0]!.message).toStartWith('malformed JSON: ');
    const zodMessage = validateRow(JSON.parse(lines[4]!));
    expect(whole.rejected[1]!.message).toBe('message' in zodMessage ? zodMessage.message : 'no message');
    expect(whole.rejected[1]!.message).toBe('content: content must not be empty');
  });

  it('gives the same rows however the bytes are cut, even inside a multi-byte character', () => {
    for (let cut = 1; cut < body.length; cut++) expect(parseInPieces([cut])).toEqual(whole);
    expect(parseInPieces(Array.from({ length: body.length - 1 }, (_, i) => i + 1))).toEqual(whole);
  });
});

describe('packed rows and the row hash', () => {
  const rows = [
    toStoredFields(questionInput.parse({ external_id: 'x', type_name: 't', subject_name: 's', content: '数学😀', options: ['a'], analysis: '' })),
    toStoredFields(questionInput.parse({ type_name: 't', subject_name: 's', content: 'c', answer: 3 })),
  ];

  it('unpacks to the same text, nulls and empty strings included', () => {
    const unpacked = unpackRows(packRows(rows));
    expect(unpacked[0]!.content).toBeInstanceOf(Uint8Array);
    expect(asStrings(unpacked)).toEqual(rows);
  });

  it('hashes a row alike from its strings and from its UTF-8 bytes, and tells null from empty', () => {
    const [packed] = unpackRows(packRows(rows.slice(0, 1)));
    const { row_hash, ...fields } = packed!;
    expect(rowHash(fields)).toBe(rows[0]!.row_hash);
    expect(rows[0]!.row_hash).toStartWith('2.');
    expect(rowHash({ ...fields, analysis: null })).not.toBe(rowHash(fields));
    expect(rowHash({ ...fields, options: null, analysis: '["a"]' })).not.toBe(rowHash({ ...fields, options: '["a"]', analysis: null }));
  });

  it('keeps the pre-version hash recipe, so rows stored before it can still be recognised', () => {
    const { row_hash, ...fields } = rows[1]!;
    // The recipe of the first release: Bun.hash of JSON.stringify of the stored fields.
    expect(legacyRowHash(rows[1]! as never)).toBe(Bun.hash(JSON.stringify(fields)).toString(36));
  });
});

describe('NdjsonParser (the parsing thread)', () => {
  const parser = new NdjsonParser();
  afterAll(() => parser.close());

  it('keeps imports running at the same time apart', async () => {
    const one = parser.open(1000);
    const two = parser.open(1000);
    const cut = body.indexOf(0xe5, 10) + 1; // inside the first multi-byte character after byte 10
    const results = await Promise.all([one.push(body.subarray(0, cut)), two.push(body), one.push(body.subarray(cut)), one.end(), two.end()]);
    const rowsOf = (chunks: ParsedChunk[]) => asStrings(chunks.flatMap((chunk) => unpackRows(chunk.rows)));
    const expected = parseInPieces([]).rows;
    expect(rowsOf([results[0], results[2], results[3]])).toEqual(expected);
    expect(rowsOf([results[1], results[4]])).toEqual(expected);
  });

  it('fails the imports of a thread that dies, and starts a new thread for the next import', async () => {
    const crashing = new NdjsonParser(new URL('./fixtures/crashing-ndjson-parser.ts', import.meta.url));
    try {
      const session = crashing.open(1000);
      const good = await session.push(body);
      expect(good.rows.count).toBe(2); // the last line has no newline yet
      const doomed = session.push(new TextEncoder().encode('{"content": "CRASH_PARSER"}\n'));
      await expect(doomed).rejects.toBeInstanceOf(ParserFailedError);
      await expect(session.end()).rejects.toBeInstanceOf(ParserFailedError);
      const next = crashing.open(1000);
      expect((await next.push(body)).rows.count).toBe(2);
      expect((await next.end()).rows.count).toBe(1);
    } finally {
      await crashing.close();
    }
  });
});
