import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, getJob, pollPause } from '../src/api/client';

afterEach(() => vi.unstubAllGlobals());

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(body), {
    status, headers: { 'content-type': 'application/json', ...headers },
  })));
}

describe('rate limits', () => {
  it('a 429 carries the server\'s message and its Retry-After', async () => {
    answer(429, { detail: 'too many requests: the limit is 3000 per 1 minute per user; retry in 7 s' }, { 'retry-after': '7' });
    const error = await getJob('j1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).retryAfterSeconds).toBe(7);
    expect((error as ApiError).message).toContain('retry in 7 s');
  });

  it('job polling waits out a 429 without counting it as a failure', () => {
    expect(pollPause(new ApiError('slow down', 429, 7), 600)).toEqual({ waitMs: 7000, counts: false });
    expect(pollPause(new ApiError('slow down', 429, null), 600)).toEqual({ waitMs: 1000, counts: false });
    expect(pollPause(new ApiError('boom', 500), 600)).toEqual({ waitMs: 600, counts: true });
    expect(pollPause(new ApiError('unreachable', null), 600)).toEqual({ waitMs: 600, counts: true });
  });

  it('other errors have no Retry-After', async () => {
    answer(404, { detail: 'no such job' }, { 'retry-after': '7' });
    const error = (await getJob('j1').catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(404);
    expect(error.retryAfterSeconds).toBeNull();
  });
});
