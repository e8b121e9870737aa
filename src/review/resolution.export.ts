import { csvField, downloadResponse, type DownloadFormat } from '../http/download.ts';
import type { Resolution } from './resolution.repository.ts';

/** The export's columns, in the contract's order. */
const COLUMNS = ['question_id', 'external_id', 'channel_code', 'duplicate_of', 'duplicate_of_external_id', 'decided_by', 'resolved_at'] as const satisfies (keyof Resolution)[];

const formats: Record<'csv' | 'ndjson', DownloadFormat<Resolution>> = {
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

/** Streams every resolution as a file download, a page at a time. */
export function streamRecords(pages: AsyncGenerator<Resolution[]>, format: keyof typeof formats, baseName: string): Response {
  return downloadResponse(pages, formats[format], baseName);
}
