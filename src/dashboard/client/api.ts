/// <reference lib="dom" />
/** The dashboard's REST calls: the contract's envelope in, typed data or a thrown message out. */

const TOKEN_KEY = 'dedup.token';

/** `?token=` is taken once into localStorage and dropped from the address bar (and history). */
function adoptUrlToken() {
  const params = new URLSearchParams(location.search);
  const given = params.get('token');
  if (given === null) return;
  localStorage.setItem(TOKEN_KEY, given);
  params.delete('token');
  history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}${location.hash}`);
}
adoptUrlToken();

export const token = {
  get: (): string => localStorage.getItem(TOKEN_KEY) ?? '',
  set: (value: string) => (value ? localStorage.setItem(TOKEN_KEY, value) : localStorage.removeItem(TOKEN_KEY)),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const REVIEWER_KEY = 'dedup.reviewer';

/**
 * The name review decisions are made under (`X-Reviewer`; a named token's name wins on the service).
 * Kept per page once read, so two tabs of one browser can review under two names.
 */
let reviewerName = new URLSearchParams(location.search).get('reviewer') ?? localStorage.getItem(REVIEWER_KEY) ?? '';
export const reviewer = {
  get: (): string => reviewerName,
  set: (value: string) => {
    reviewerName = value.replace(/\p{Cc}/gu, '').trim().slice(0, 100);
    if (reviewerName) localStorage.setItem(REVIEWER_KEY, reviewerName);
    else localStorage.removeItem(REVIEWER_KEY);
    return reviewerName;
  },
};

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const bearer = token.get();
  // Header values are Latin-1: a name like 王老师 goes percent-encoded, and the service decodes it.
  const named = reviewerName ? { ...extra, 'X-Reviewer': encodeURIComponent(reviewerName) } : extra;
  return bearer ? { ...named, Authorization: `Bearer ${bearer}` } : named;
}

async function unwrap<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => null)) as { code?: number; message?: string; data?: T } | null;
  if (!response.ok || !body) throw new ApiError(response.status, body?.message ?? `HTTP ${response.status}`);
  return body.data as T;
}

export const api = {
  get: <T>(path: string) => fetch(path, { headers: headers() }).then((r) => unwrap<T>(r)),
  post: <T>(path: string, body?: unknown) =>
    fetch(path, {
      method: 'POST',
      headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => unwrap<T>(r)),
};

/** The media type the import endpoint expects for a file, by its extension. */
export function importMediaType(fileName: string): string {
  const name = fileName.toLowerCase();
  if (name.endsWith('.csv')) return 'text/csv';
  if (name.endsWith('.json')) return 'application/json';
  return 'application/x-ndjson';
}

export interface ImportResult {
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: { index: number; message: string }[];
  rejected_count?: number;
}

/** fetch() cannot report upload progress; XMLHttpRequest's upload events can. */
export function uploadQuestions(file: File, onProgress: (fraction: number) => void): Promise<ImportResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/questions');
    for (const [name, value] of Object.entries(headers({ 'Content-Type': importMediaType(file.name) }))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body: { message?: string; data?: ImportResult } | null = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: reported below with the status.
      }
      if (xhr.status >= 200 && xhr.status < 300 && body?.data) resolve(body.data);
      else reject(new ApiError(xhr.status, body?.message ?? `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network error while uploading'));
    xhr.send(file);
  });
}
