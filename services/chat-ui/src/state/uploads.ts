// Per-file state of an upload: sending bytes (XHR progress), then ingestion (job polling).
import type { Job } from '../api/client';

export type UploadPhase = 'uploading' | 'queued' | 'processing' | 'ready' | 'failed';

export interface UploadItem {
  id: string;
  name: string;
  size: number;
  phase: UploadPhase;
  /** 0..1 of the bytes sent. */
  sent: number;
  jobId?: string;
  documentId?: string;
  pagesDone: number;
  pagesTotal: number;
  /** Pages no extractor could read: not searchable, so the user should know. */
  pagesUnreadable?: number;
  chunksDone: number;
  chunksTotal: number;
  error?: string;
}

export type UploadAction =
  | { type: 'add'; id: string; name: string; size: number }
  | { type: 'sent'; id: string; loaded: number; total: number }
  | { type: 'accepted'; id: string; jobId: string; documentId: string }
  | { type: 'job'; id: string; job: Job }
  | { type: 'failed'; id: string; error: string }
  | { type: 'dismiss'; id: string };

export function uploadsReducer(items: UploadItem[], action: UploadAction): UploadItem[] {
  if (action.type === 'add')
    return [
      ...items,
      { id: action.id, name: action.name, size: action.size, phase: 'uploading', sent: 0, pagesDone: 0, pagesTotal: 0, pagesUnreadable: 0, chunksDone: 0, chunksTotal: 0 },
    ];
  if (action.type === 'dismiss') return items.filter((i) => i.id !== action.id);
  return items.map((item) => (item.id === action.id ? apply(item, action) : item));
}

function apply(item: UploadItem, action: UploadAction): UploadItem {
  switch (action.type) {
    case 'sent':
      return { ...item, sent: action.total > 0 ? Math.min(1, action.loaded / action.total) : 0 };
    case 'accepted':
      return { ...item, sent: 1, phase: 'queued', jobId: action.jobId, documentId: action.documentId };
    case 'job': {
      const p = action.job.progress ?? {};
      return {
        ...item,
        phase: action.job.state,
        pagesDone: p.pages_done ?? 0,
        pagesTotal: p.pages_total ?? 0,
        pagesUnreadable: p.pages_unreadable ?? 0,
        chunksDone: p.chunks_done ?? 0,
        chunksTotal: p.chunks_total ?? 0,
        error: action.job.state === 'failed' ? action.job.error ?? 'Ingestion failed.' : undefined,
      };
    }
    case 'failed':
      return { ...item, phase: 'failed', error: action.error };
    default:
      return item;
  }
}

/** One 0..1 figure for the ingestion bar: pages are read first, then chunks are embedded. */
export function ingestFraction(item: UploadItem): number {
  if (item.phase === 'ready') return 1;
  const pages = item.pagesTotal ? item.pagesDone / item.pagesTotal : 0;
  const chunks = item.chunksTotal ? item.chunksDone / item.chunksTotal : 0;
  return Math.min(1, pages * 0.5 + chunks * 0.5);
}

/** "33 pages", or "33 pages (3 unreadable)" when some could not be read. */
export const pagesText = (pages: number, unreadable: number | undefined) =>
  `${pages} pages${unreadable ? ` (${unreadable} unreadable)` : ''}`;

export function describe(item: UploadItem): string {
  switch (item.phase) {
    case 'uploading':
      return `Uploading ${Math.round(item.sent * 100)}%`;
    case 'queued':
      return 'Queued for ingestion';
    case 'processing':
      return item.chunksTotal
        ? `Indexing: chunk ${item.chunksDone} of ${item.chunksTotal} (${item.pagesDone}/${item.pagesTotal} pages read)`
        : `Reading pages: ${item.pagesDone} of ${item.pagesTotal || '?'}`;
    case 'ready':
      return `Ready: ${pagesText(item.pagesTotal, item.pagesUnreadable)}, ${item.chunksTotal} chunks`;
    case 'failed':
      return `Failed: ${item.error ?? 'unknown reason'}`;
  }
}

export const isActive = (item: UploadItem) => item.phase === 'uploading' || item.phase === 'queued' || item.phase === 'processing';
