import { afterEach, describe, expect, it, vi } from 'vitest';
import { uploadFile } from '../src/api/upload';
import { setAuth } from '../src/api/auth';
import { FakeCognito, signIn } from './cognito';

// A stand-in XMLHttpRequest that plays back progress and then a response.
class FakeXhr {
  static script: { status: number; response: unknown; progress: [number, number][] } | 'network-error';
  upload: { onprogress?: (e: { loaded: number; total: number; lengthComputable: boolean }) => void } = {};
  status = 0;
  response: unknown = null;
  responseType = '';
  onload?: () => void;
  onerror?: () => void;
  onabort?: () => void;
  method = '';
  url = '';
  body: FormData | null = null;
  open(method: string, url: string) { this.method = method; this.url = url; }
  setRequestHeader(_name: string, _value: string) {}
  abort() { this.onabort?.(); }
  send(body: FormData) {
    this.body = body;
    const s = FakeXhr.script;
    queueMicrotask(() => {
      if (s === 'network-error') return this.onerror?.();
      for (const [loaded, total] of s.progress) this.upload.onprogress?.({ loaded, total, lengthComputable: true });
      this.status = s.status;
      this.response = s.response;
      this.onload?.();
    });
  }
}

afterEach(() => vi.unstubAllGlobals());

describe('uploadFile', () => {
  it('reports progress and resolves to the job', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    FakeXhr.script = { status: 202, response: { job_id: 'j', document_id: 'd' }, progress: [[50, 100], [100, 100]] };
    const seen: number[] = [];
    const r = await uploadFile(new File(['x'], 'a.pdf'), (l, t) => seen.push(l / t));
    expect(r).toEqual({ job_id: 'j', document_id: 'd' });
    expect(seen).toEqual([0.5, 1]);
  });

  it('rejects with the server detail on 415 and 413', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    FakeXhr.script = { status: 415, response: { detail: "'a.exe': unsupported file type .exe" }, progress: [] };
    await expect(uploadFile(new File(['x'], 'a.exe'), () => {})).rejects.toMatchObject({ status: 415, message: "'a.exe': unsupported file type .exe" });
    FakeXhr.script = { status: 413, response: null, progress: [] };
    await expect(uploadFile(new File(['x'], 'big.pdf'), () => {})).rejects.toMatchObject({ status: 413, message: 'big.pdf is too large for the server.' });
  });

  it('says the API is unreachable on a network error', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    FakeXhr.script = 'network-error';
    await expect(uploadFile(new File(['x'], 'a.pdf'), () => {})).rejects.toMatchObject({ status: null });
  });
});

describe('uploadFile when signed in', () => {
  // An XHR that answers each send from a queue and records its headers.
  class RecordingXhr extends FakeXhr {
    static answers: number[] = [];
    static sent: Record<string, string>[] = [];
    headers: Record<string, string> = {};
    setRequestHeader(k: string, v: string) { this.headers[k] = v; }
    send(body: FormData) {
      RecordingXhr.sent.push(this.headers);
      const status = RecordingXhr.answers.shift()!;
      FakeXhr.script = { status, response: status === 202 ? { job_id: 'j', document_id: 'd' } : { detail: 'invalid token' }, progress: [] };
      super.send(body);
    }
  }

  afterEach(() => {
    setAuth(null);
    sessionStorage.clear();
  });

  it('sends the token, and after a 401 refreshes and sends once more', async () => {
    const fake = new FakeCognito();
    vi.stubGlobal('fetch', fake.fetch);
    const auth = fake.auth();
    setAuth(auth);
    await signIn(fake, auth);
    vi.stubGlobal('XMLHttpRequest', RecordingXhr);
    RecordingXhr.sent = [];
    RecordingXhr.answers = [401, 202];
    expect(await uploadFile(new File(['x'], 'a.pdf'), () => {})).toEqual({ job_id: 'j', document_id: 'd' });
    const [first, retry] = RecordingXhr.sent.map((h) => h.Authorization);
    expect(first).toMatch(/^Bearer /);
    expect(retry).toMatch(/^Bearer /);
    expect(retry).not.toBe(first);
    expect(fake.refreshForms()).toHaveLength(1);

    RecordingXhr.answers = [401, 401];
    await expect(uploadFile(new File(['x'], 'a.pdf'), () => {})).rejects.toMatchObject({ status: 401, message: 'invalid token' });
    expect(RecordingXhr.sent).toHaveLength(4); // one retry, not a loop
  });
});
