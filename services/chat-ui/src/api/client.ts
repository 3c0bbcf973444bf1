// A typed API client: paths and bodies come from src/api/schema.d.ts, generated from
// openapi.json (`npm run schema` refreshes both from a running server).
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import { authFetch } from './auth';

export type AskResponse = components['schemas']['AskResponse'];
export type Source = components['schemas']['SourceOut'];
export type Job = components['schemas']['JobOut'];
export type DocumentInfo = components['schemas']['DocumentOut'];
export type UploadResponse = components['schemas']['UploadResponse'];
export type Rating = components['schemas']['FeedbackRequest']['rating'];
export type UiConfig = components['schemas']['UiConfig'];

/** What the UI shows when a call fails: a sentence, and whether the server was reachable at all. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** 429: how long the server asks us to wait (its Retry-After header), in seconds. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  get unreachable(): boolean {
    return this.status === null;
  }
}

export const UNREACHABLE = 'The RAGOps API is unreachable. Is `ragops serve` running?';

// Every call goes through authFetch: the bearer token when signed in, one retry after a
// refresh on 401. fetch is looked up per call (not captured at import), so tests and
// polyfills can replace it.
export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '', fetch: (request) => authFetch(request) });

/** The server's `detail` (a string, or FastAPI's list of validation errors), else the status line. */
export function detailOf(body: unknown, status: number): string {
  if (body && typeof body === 'object' && 'detail' in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail))
      return detail.map((d) => (d && typeof d === 'object' && 'msg' in d ? String(d.msg) : String(d))).join('; ');
  }
  return `The server answered ${status}.`;
}

async function call<T>(run: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result;
  try {
    result = await run();
  } catch {
    throw new ApiError(UNREACHABLE, null);
  }
  if (!result.response.ok) throw errorFor(result.error, result.response.status, result.response.headers.get('retry-after'));
  return result.data as T;
}

/** A gateway in front of the API (ingress, dev proxy) answers 502-504 when the API is down. */
export function errorFor(body: unknown, status: number, retryAfter: string | null = null): ApiError {
  if (status >= 502 && status <= 504) return new ApiError(UNREACHABLE, null);
  const seconds = status === 429 && retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : null;
  return new ApiError(detailOf(body, status), status, seconds);
}

/** How long job polling waits after an error, and whether that error counts towards giving up:
 * a 429 is the server pacing us (wait what it asks, at least the usual interval), not a failure. */
export function pollPause(error: unknown, intervalMs: number): { waitMs: number; counts: boolean } {
  if (error instanceof ApiError && error.status === 429) {
    return { waitMs: Math.max(intervalMs, (error.retryAfterSeconds ?? 1) * 1000), counts: false };
  }
  return { waitMs: intervalMs, counts: true };
}

/** Whether (and where) the page signs in; asked before anything else, needs no token. */
export const getUiConfig = () => call(() => api.GET('/api/ui-config'));
export const listDocuments = () => call(() => api.GET('/api/documents'));
export const getJob = (jobId: string) => call(() => api.GET('/api/jobs/{job_id}', { params: { path: { job_id: jobId } } }));
export const deleteDocument = (documentId: string) =>
  call(() => api.DELETE('/api/documents/{document_id}', { params: { path: { document_id: documentId } } }));
export const sendFeedback = (answerId: string, rating: Rating, comment?: string) =>
  call(() => api.POST('/api/feedback', { body: { answer_id: answerId, rating, comment: comment || null } }));
