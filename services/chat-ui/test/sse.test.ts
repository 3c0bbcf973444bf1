import { afterEach, describe, expect, it, vi } from 'vitest';
import { askStream, readSse, SseParser } from '../src/api/sse';

const enc = new TextEncoder();
function streamOf(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      parts.forEach((p) => c.enqueue(enc.encode(p)));
      c.close();
    },
  });
}

describe('SseParser', () => {
  it('parses events with CRLF line endings (sse-starlette)', () => {
    const p = new SseParser();
    expect(p.feed('event: delta\r\ndata: {"text": "a"}\r\n\r\nevent: done\r\ndata: {}\r\n\r\n')).toEqual([
      { event: 'delta', data: '{"text": "a"}' },
      { event: 'done', data: '{}' },
    ]);
  });

  it('reassembles events split anywhere, including between \\r and \\n', () => {
    const text = 'event: sources\r\ndata: {"sources": [], "cached": false}\r\n\r\nevent: delta\r\ndata: {"text": "hi"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser();
      const events = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut)), ...p.end()];
      expect(events.map((e) => e.event)).toEqual(['sources', 'delta']);
      expect(JSON.parse(events[1].data)).toEqual({ text: 'hi' });
    }
  });

  it('ignores comments, joins multi-line data, defaults the event name, flushes at the end', () => {
    const p = new SseParser();
    expect(p.feed(': ping\n\ndata: one\ndata: two\n\n')).toEqual([{ event: 'message', data: 'one\ntwo' }]);
    expect(p.feed('event: done\ndata: {"x":1}')).toEqual([]);
    expect(p.end()).toEqual([{ event: 'done', data: '{"x":1}' }]);
  });

  it('decodes multi-byte characters split across chunks', async () => {
    const bytes = enc.encode('event: delta\ndata: {"text": "café ✓"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const seen: string[] = [];
    await readSse(body, (e) => seen.push(JSON.parse(e.data).text));
    expect(seen).toEqual(['café ✓']);
  });
});

describe('askStream', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reports sources, then deltas, and resolves to the done payload', async () => {
    const done = { answer_id: 'a1', answer: 'Form 225 [1]', sources: [], model: 'extractive', cached: false };
    const fetchMock = vi.fn(async () =>
      new Response(
        streamOf(
          'event: sources\r\ndata: {"sources": [{"filename": "f.pdf", "page": 2}], "cached": true}\r\n\r\n',
          'event: delta\r\ndata: {"text": "Form "}\r\n\r\nevent: delta\r\ndata: {"text": "225 [1]"}\r\n\r\n',
          `event: done\r\ndata: ${JSON.stringify(done)}\r\n\r\n`,
        ),
        { status: 200, headers: { 'content-type': 'text/event-stream' } },
      ),
    );
    vi.stubGlobal('fetch', fetchMock);
    const deltas: string[] = [];
    let cachedSeen = false;
    const result = await askStream('q', { onDelta: (t) => deltas.push(t), onSources: (_s, c) => (cachedSeen = c) });
    expect(result).toEqual(done);
    expect(deltas).toEqual(['Form ', '225 [1]']);
    expect(cachedSeen).toBe(true);
    const request = (fetchMock.mock.calls[0] as unknown as [Request])[0];
    expect(request.method).toBe('POST');
    expect(new URL(request.url).pathname).toBe('/api/ask/stream');
    expect(await request.json()).toEqual({ query: 'q' });
  });

  it('turns a network failure into an "unreachable" error', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    await expect(askStream('q', {})).rejects.toMatchObject({ status: null, message: expect.stringContaining('unreachable') });
  });

  it('shows the server detail of a 422', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Response.json({ detail: [{ msg: 'Value error, query must not be empty' }] }, { status: 422 })));
    await expect(askStream(' ', {})).rejects.toMatchObject({ status: 422, message: 'Value error, query must not be empty' });
  });

  it('fails when the stream ends without done', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(streamOf('event: delta\ndata: {"text": "x"}\n\n'), { status: 200 })));
    await expect(askStream('q', {})).rejects.toThrow(/ended before/);
  });
});
