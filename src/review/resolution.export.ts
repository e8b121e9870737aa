import type { Resolution } from './resolution.repository.ts';

/** The export's columns, in the contract's order. */
const COLUMNS = ['question_id', 'external_id', 'channel_code', 'duplicate_of', 'duplicate_of_external_id', 'decided_by', 'resolved_at'] as const satisfies (keyof Resolution)[];

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const formats = {
  csv: {
    contentType: 'text/csv; charset=utf-8',
    extension: 'csv',
    header: `${COLUMNS.join(',')}\n`,
    line: (row: Resolution) => `${COLUMNS.map((column) => csvField(row[column])).join(',')}\n`,
  },
  ndjson: {
    contentType: 'application/x-ndjson; charset=utf-8',
    extension: 'ndjson',
    header: '',
    line: (row: Resolution) => `${JSON.stringify(Object.fromEntries(COLUMNS.map((column) => [column, row[column]])))}\n`,
  },
};

/**
 * Streams pages of resolutions as a file download: a page is read only when the client has
 * taken the one before (pull), so memory stays at one page whatever the bank's size.
 */
export function streamRecords(pages: AsyncGenerator<Resolution[]>, format: keyof typeof formats, baseName: string): Response {
  const { contentType, extension, header, line } = formats[format];
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
    headers: { 'content-type': contentType, 'content-disposition': `attachment; filename="${baseName}.${extension}"` },
  });
}
