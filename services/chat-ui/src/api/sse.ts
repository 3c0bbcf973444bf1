// Server-sent events over POST: EventSource only does GET, so the answer stream is read
// with fetch + ReadableStream and parsed here (the SSE wire format, any line ending).
import { api, ApiError, errorFor, UNREACHABLE, type AskResponse, type Source } from './client';

export interface SseEvent {
  event: string;
  data: string;
}

/** Incremental SSE parser: feed it text as it arrives, get the complete events back. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  feed(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }

  /** The stream ended: dispatch what is pending (a final event without its blank line). */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer) this.line(this.buffer, out);
    this.buffer = '';
    this.line('', out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // comment / keep-alive ping
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

export interface AskHandlers {
  onSources?(sources: Source[], cached: boolean): void;
  onDelta?(text: string): void;
}

/** Read an SSE body to the end, calling `onEvent` for each event. */
export async function readSse(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true })).forEach(onEvent);
  }
  parser.feed(decoder.decode()).forEach(onEvent);
  parser.end().forEach(onEvent);
}

/** POST /api/ask/stream: sources first, then the answer in pieces; resolves to the full answer. */
export async function askStream(query: string, handlers: AskHandlers, signal?: AbortSignal): Promise<AskResponse> {
  let response: Response;
  let body: ReadableStream<Uint8Array> | null | undefined;
  let error: unknown;
  try {
    ({ response, data: body, error } = await api.POST('/api/ask/stream', {
      body: { query },
      parseAs: 'stream',
      signal,
      headers: { Accept: 'text/event-stream' },
    }));
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(UNREACHABLE, null);
  }
  if (!response.ok || !body) throw errorFor(error, response.status, response.headers.get('retry-after'));
  let final: AskResponse | null = null;
  let failure: string | null = null;
  try {
    await readSse(body, (e) => {
      const payload = e.data ? JSON.parse(e.data) : {};
      if (e.event === 'sources') handlers.onSources?.(payload.sources ?? [], Boolean(payload.cached));
      else if (e.event === 'delta') handlers.onDelta?.(String(payload.text ?? ''));
      else if (e.event === 'done') final = payload as AskResponse;
      else if (e.event === 'error') failure = String(payload.detail ?? payload.message ?? 'The answer failed.');
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError('The connection to the API was lost while the answer was streaming.', null);
  }
  if (failure) throw new ApiError(failure, 500);
  if (!final) throw new ApiError('The answer stream ended before the answer was complete.', 502);
  return final;
}
