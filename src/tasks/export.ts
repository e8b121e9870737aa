import type { DuplicatePair } from './result.repository.ts';

const COLUMNS = [
  'cluster_id',
  'type_name',
  'subject_name',
  'channel_code',
  'canonical_question_id',
  'question_id',
  'distance',
  'similarity',
] as const satisfies (keyof DuplicatePair)[];

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The member's reason in two CSV columns: its stage, and its checks separated by spaces. */
const reasonFields = (pair: DuplicatePair) => [pair.reason?.stage ?? '', pair.reason?.checks.join(' ') ?? ''].map(csvField).join(',');

const formats = {
  csv: {
    contentType: 'text/csv; charset=utf-8',
    header: `${COLUMNS.join(',')},reason_stage,reason_checks\n`,
    line: (pair: DuplicatePair) => `${COLUMNS.map((column) => csvField(pair[column])).join(',')},${reasonFields(pair)}\n`,
  },
  ndjson: {
    contentType: 'application/x-ndjson; charset=utf-8',
    header: '',
    line: (pair: DuplicatePair) => `${JSON.stringify(pair)}\n`,
  },
};

/** Streams every duplicate pair as a file download, a page of clusters at a time. */
export function exportResponse(pages: AsyncGenerator<DuplicatePair[]>, format: keyof typeof formats, baseName: string): Response {
  const { contentType, header, line } = formats[format];
  const encoder = new TextEncoder();
  let headerSent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        if (header) return controller.enqueue(encoder.encode(header));
      }
      const next = await pages.next();
      if (next.done) return controller.close();
      controller.enqueue(encoder.encode(next.value.map(line).join('')));
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      'content-type': contentType,
      'content-disposition': `attachment; filename="${baseName}.${format === 'csv' ? 'csv' : 'ndjson'}"`,
    },
  });
}
