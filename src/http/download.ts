import { nextTurn } from '../pace.ts';

/** Records turned into text between two turns of the event loop (~1-2 ms of JSON or CSV). */
const RECORDS_PER_SLICE = 500;

/** How one record kind is written as a file: its media type, file extension, header and one line per record. */
export interface DownloadFormat<T> {
  contentType: string;
  extension: string;
  header: string;
  line: (record: T) => string;
}

/** A CSV field: quoted when it holds a quote, a comma or a line break; null is empty. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Streams pages of records as a file download: a page is read only when the client has taken
 * the one before (pull), so memory stays at one page whatever the bank's size.
 */
export function downloadResponse<T>(pages: AsyncGenerator<T[]>, format: DownloadFormat<T>, baseName: string): Response {
  const { contentType, extension, header, line } = format;
  const encoder = new TextEncoder();
  let headerSent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        if (header) return controller.enqueue(encoder.encode(header));
      }
      // A client reading fast pulls the next page at once, and bun:sqlite answers synchronously: without
      // a turn of the event loop here, a whole export ran as one stretch of the main thread (~300 ms a million pairs).
      await nextTurn();
      const next = await pages.next();
      if (next.done) return controller.close();
      // A page of 500 clusters is ~2,500 records, 300 KB of JSON: written in slices with a turn
      // between, so no one stretch of the main thread grows with a page's members.
      for (let start = 0; start < next.value.length; start += RECORDS_PER_SLICE) {
        if (start > 0) await nextTurn();
        controller.enqueue(encoder.encode(next.value.slice(start, start + RECORDS_PER_SLICE).map(line).join('')));
      }
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
  return new Response(body, {
    headers: { 'content-type': contentType, 'content-disposition': `attachment; filename="${baseName}.${extension}"` },
  });
}
