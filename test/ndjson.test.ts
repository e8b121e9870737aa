import { describe, expect, it } from 'bun:test';
import { readLines, type NdjsonLine } from '../src/questions/ndjson.ts';

/** A byte stream delivered in the given pieces (cut anywhere, even inside a UTF-8 character). */
function streamOf(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [0, ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  let k = 0;
  return new ReadableStream({
    pull(controller) {
      if (k + 1 >= points.length) return controller.close();
      controller.enqueue(bytes.slice(points[k], points[k + 1]));
      k++;
    },
  });
}

async function collect(text: string, cuts: number[], max = 1000): Promise<NdjsonLine[]> {
  const lines: NdjsonLine[] = [];
  for await (const line of readLines(streamOf(new TextEncoder().encode(text), cuts), max)) lines.push(line);
  return lines;
}

describe('readLines', () => {
  const text = '{"a":"数学"}\n\n{"b":2}\r\n{"c":"x"}';
  const expected = [
    { index: 0, text: '{"a":"数学"}' },
    { index: 1, text: '' },
    { index: 2, text: '{"b":2}\r' },
    { index: 3, text: '{"c":"x"}' },
  ];

  it('yields the same numbered lines however the bytes are cut into chunks', async () => {
    const length = new TextEncoder().encode(text).length;
    expect(await collect(text, [])).toEqual(expected);
    for (let cut = 1; cut < length; cut++) expect(await collect(text, [cut])).toEqual(expected);
    expect(await collect(text, Array.from({ length }, (_, i) => i))).toEqual(expected);
  });

  it('reports an over-long line once, drops its rest, and goes on with the next line', async () => {
    const long = `{"x":"${'y'.repeat(50)}"}`;
    const input = `{"a":1}\n${long}\n{"b":2}\n`;
    for (const cuts of [[], [10, 20, 30, 40], [12]]) {
      expect(await collect(input, cuts, 20)).toEqual([
        { index: 0, text: '{"a":1}' },
        { index: 1, tooLong: true },
        { index: 2, text: '{"b":2}' },
      ]);
    }
  });

  it('reports an over-long last line without a newline once', async () => {
    expect(await collect(`{"a":1}\n${'z'.repeat(30)}`, [9, 15], 20)).toEqual([
      { index: 0, text: '{"a":1}' },
      { index: 1, tooLong: true },
    ]);
  });
});
