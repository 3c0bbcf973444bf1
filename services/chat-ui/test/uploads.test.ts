import { describe, expect, it } from 'vitest';
import { describe as describeItem, ingestFraction, isActive, uploadsReducer, type UploadItem } from '../src/state/uploads';
import type { Job } from '../src/api/client';

const job = (state: Job['state'], progress: Record<string, number>, error: string | null = null): Job => ({
  job_id: 'j', document_id: 'd', filename: 'a.pdf', state, progress, error, created_at: 0, updated_at: 0,
});

describe('upload state', () => {
  it('goes from bytes sent to ingestion progress to ready', () => {
    let s: UploadItem[] = uploadsReducer([], { type: 'add', id: '1', name: 'a.pdf', size: 100 });
    expect(s[0].phase).toBe('uploading');
    s = uploadsReducer(s, { type: 'sent', id: '1', loaded: 25, total: 100 });
    expect(s[0].sent).toBe(0.25);
    expect(describeItem(s[0])).toBe('Uploading 25%');
    s = uploadsReducer(s, { type: 'accepted', id: '1', jobId: 'j', documentId: 'd' });
    expect(s[0]).toMatchObject({ phase: 'queued', sent: 1, jobId: 'j' });
    s = uploadsReducer(s, { type: 'job', id: '1', job: job('processing', { pages_done: 5, pages_total: 10, chunks_done: 0, chunks_total: 0 }) });
    expect(ingestFraction(s[0])).toBe(0.25);
    expect(describeItem(s[0])).toBe('Reading pages: 5 of 10');
    s = uploadsReducer(s, { type: 'job', id: '1', job: job('processing', { pages_done: 10, pages_total: 10, chunks_done: 3, chunks_total: 6 }) });
    expect(ingestFraction(s[0])).toBe(0.75);
    expect(isActive(s[0])).toBe(true);
    s = uploadsReducer(s, { type: 'job', id: '1', job: job('ready', { pages_done: 10, pages_total: 10, chunks_done: 6, chunks_total: 6 }) });
    expect(ingestFraction(s[0])).toBe(1);
    expect(isActive(s[0])).toBe(false);
    expect(describeItem(s[0])).toBe('Ready: 10 pages, 6 chunks');
  });

  it('says how many pages could not be read', () => {
    let s = uploadsReducer([], { type: 'add', id: '1', name: '504076.pdf', size: 1 });
    s = uploadsReducer(s, { type: 'job', id: '1', job: job('ready', { pages_done: 33, pages_total: 33, pages_unreadable: 3, chunks_done: 20, chunks_total: 20 }) });
    expect(describeItem(s[0])).toBe('Ready: 33 pages (3 unreadable), 20 chunks');
  });

  it('keeps the reason of a failure, and only touches its own item', () => {
    let s = uploadsReducer([], { type: 'add', id: '1', name: 'a.pdf', size: 1 });
    s = uploadsReducer(s, { type: 'add', id: '2', name: 'b.pdf', size: 1 });
    s = uploadsReducer(s, { type: 'job', id: '2', job: job('failed', {}, 'encrypted with a password') });
    expect(s[0].phase).toBe('uploading');
    expect(describeItem(s[1])).toBe('Failed: encrypted with a password');
    s = uploadsReducer(s, { type: 'failed', id: '1', error: 'too large' });
    expect(s[0]).toMatchObject({ phase: 'failed', error: 'too large' });
    s = uploadsReducer(s, { type: 'dismiss', id: '1' });
    expect(s.map((i) => i.id)).toEqual(['2']);
  });

  it('copes with an unknown total', () => {
    const s = uploadsReducer(uploadsReducer([], { type: 'add', id: '1', name: 'a', size: 0 }), { type: 'sent', id: '1', loaded: 5, total: 0 });
    expect(s[0].sent).toBe(0);
  });
});
