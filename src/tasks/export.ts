import { csvField, downloadResponse, type DownloadFormat } from '../http/download.ts';
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

/** The member's reason in two CSV columns: its stage, and its checks separated by spaces. */
const reasonFields = (pair: DuplicatePair) => [pair.reason?.stage ?? '', pair.reason?.checks.join(' ') ?? ''].map(csvField).join(',');

const formats: Record<'csv' | 'ndjson', DownloadFormat<DuplicatePair>> = {
  csv: {
    contentType: 'text/csv; charset=utf-8',
    extension: 'csv',
    header: `${COLUMNS.join(',')},reason_stage,reason_checks\n`,
    line: (pair: DuplicatePair) => `${COLUMNS.map((column) => csvField(pair[column])).join(',')},${reasonFields(pair)}\n`,
  },
  ndjson: {
    contentType: 'application/x-ndjson; charset=utf-8',
    extension: 'ndjson',
    header: '',
    line: (pair: DuplicatePair) => `${JSON.stringify(pair)}\n`,
  },
};

/** Streams every duplicate pair as a file download, a page of clusters at a time. */
export function exportResponse(pages: AsyncGenerator<DuplicatePair[]>, format: keyof typeof formats, baseName: string): Response {
  return downloadResponse(pages, formats[format], baseName);
}
