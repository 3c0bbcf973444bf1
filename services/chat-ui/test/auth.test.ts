import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { authFetch, authHeaders, getAccessToken, jwtClaims, refreshAtMs, setAuth, SIGNED_OUT_KEY } from '../src/api/auth';
import { CONFIG, DOMAIN, FakeCognito, jwt, s256, signIn } from './cognito';

let fake: FakeCognito;

beforeEach(() => {
  fake = new FakeCognito();
  vi.stubGlobal('fetch', fake.fetch);
});

afterEach(() => {
  setAuth(null);
  vi.useRealTimers();
  vi.unstubAllGlobals();
  sessionStorage.clear();
  window.history.replaceState(null, '', '/');
});

const bearer = (r: Request) => r.headers.get('Authorization');

describe('sign-in (authorization code + PKCE)', () => {
  it('sends the person to the hosted UI with an S256 challenge, and redeems the code with its verifier', async () => {
    window.history.replaceState(null, '', '/somewhere?x=1');
    const auth = fake.auth();
    setAuth(auth);
    const authorize = await signIn(fake, auth);

    expect(authorize.origin + authorize.pathname).toBe(`${DOMAIN}/oauth2/authorize`);
    const q = authorize.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('chat-client');
    expect(q.get('redirect_uri')).toBe(`${window.location.origin}/`);
    expect(q.get('scope')).toBe('openid email profile');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('state')).toBeTruthy();

    const [exchange] = fake.forms;
    expect(exchange.get('grant_type')).toBe('authorization_code');
    expect(exchange.get('code')).toBe('code-1');
    expect(exchange.get('redirect_uri')).toBe(`${window.location.origin}/`);
    const verifier = exchange.get('code_verifier')!;
    expect(verifier.length).toBeGreaterThanOrEqual(43);
    expect(s256(verifier)).toBe(q.get('code_challenge'));

    expect(auth.state).toMatchObject({ status: 'signed-in', name: 'ada@example.com', subject: 'user-1' });
    expect(window.location.pathname + window.location.search).toBe('/somewhere?x=1'); // code and state gone from the URL
    const token = await getAccessToken();
    expect(jwtClaims(token!)).toMatchObject({ token_use: 'access' });
    expect(await authHeaders()).toEqual({ Authorization: `Bearer ${token}` });
  });

  it('sends the ID token instead when the API says so', async () => {
    const auth = fake.auth({ ...CONFIG, token: 'id' });
    setAuth(auth);
    await signIn(fake, auth);
    expect(jwtClaims((await getAccessToken())!)).toMatchObject({ token_use: 'id', email: 'ada@example.com' });
  });

  it('refuses a callback it did not start, and says sign-in failed', async () => {
    const auth = fake.auth();
    const state = await auth.start(new URL(`${window.location.origin}/?code=stolen&state=not-ours`));
    expect(state).toMatchObject({ status: 'signed-out', reason: 'error' });
    expect(fake.forms).toHaveLength(0);
    expect(window.location.search).toBe('');
  });

  it('shows the hosted UI error (e.g. access denied)', async () => {
    const auth = fake.auth();
    await auth.signIn();
    const stateParam = new URL(fake.navigations[0]).searchParams.get('state')!;
    const state = await auth.start(new URL(`${window.location.origin}/?error=access_denied&error_description=User+is+disabled&state=${stateParam}`));
    expect(state).toMatchObject({ status: 'signed-out', reason: 'error', message: 'Sign-in failed: User is disabled' });
  });

  it('picks up the session again on reload', async () => {
    await signIn(fake, fake.auth());
    const again = fake.auth();
    expect(await again.start(new URL(`${window.location.origin}/`))).toMatchObject({ status: 'signed-in', name: 'ada@example.com' });
    expect(fake.forms).toHaveLength(1);
  });
});

describe('refresh timing', () => {
  it('refreshes a quarter of the lifetime before expiry, at most 60 s before', () => {
    const now = 1_700_000_000;
    expect(refreshAtMs(jwt({ iat: now, exp: now + 3600 }))).toBe((now + 3600 - 60) * 1000);
    expect(refreshAtMs(jwt({ iat: now, exp: now + 20 }))).toBe((now + 15) * 1000);
    expect(refreshAtMs('opaque-token', now + 3600)).toBe((now + 3600 - 60) * 1000);
    expect(refreshAtMs('opaque-token')).toBeNull();
  });

  it('refreshes on a timer before the token expires, with the one refresh token Cognito gave', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    fake.ttl = 20;
    const auth = fake.auth();
    setAuth(auth);
    await signIn(fake, auth);
    const first = await getAccessToken();

    await vi.advanceTimersByTimeAsync(14_000);
    expect(fake.refreshForms()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(fake.refreshForms()).toHaveLength(1);
    expect(fake.refreshForms()[0].get('refresh_token')).toBe('refresh-1');
    expect(fake.refreshForms()[0].get('client_id')).toBe('chat-client');
    const second = await getAccessToken();
    expect(second).not.toBe(first);

    // The refresh response had no refresh token: the original one is kept for the next round.
    await vi.advanceTimersByTimeAsync(15_500);
    expect(fake.refreshForms().map((f) => f.get('refresh_token'))).toEqual(['refresh-1', 'refresh-1']);
    expect(auth.state).toMatchObject({ status: 'signed-in' });
  });

  it('refreshes before a call when the token is due, once for concurrent calls', async () => {
    vi.useFakeTimers({ toFake: ['Date'] }); // no timers run: only the call-time check can refresh
    fake.ttl = 20;
    const auth = fake.auth();
    setAuth(auth);
    await signIn(fake, auth);
    const stale = await getAccessToken();
    vi.setSystemTime(Date.now() + 16_000);
    const [a, b] = await Promise.all([getAccessToken(), getAccessToken()]);
    expect(fake.refreshForms()).toHaveLength(1);
    expect(a).toBe(b);
    expect(a).not.toBe(stale);
  });

  it('ends the session when Cognito refuses the refresh token', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    fake.ttl = 20;
    const auth = fake.auth();
    setAuth(auth);
    await signIn(fake, auth);
    fake.refuseRefresh = true;
    await vi.advanceTimersByTimeAsync(16_000);
    expect(auth.state).toMatchObject({ status: 'signed-out', reason: 'expired' });
    expect(await getAccessToken()).toBeNull();
  });
});

describe('authFetch', () => {
  it('retries once with a fresh token after a 401, body and all', async () => {
    const auth = fake.auth();
    setAuth(auth);
    await signIn(fake, auth);
    let calls = 0;
    fake.api = () => (++calls === 1 ? Response.json({ detail: 'invalid token: Signature has expired' }, { status: 401 }) : Response.json({ ok: true }));
    const response = await authFetch(new Request('http://localhost/api/ask', { method: 'POST', body: '{"query":"q"}', headers: { 'content-type': 'application/json' } }));
    expect(response.status).toBe(200);
    expect(fake.refreshForms()).toHaveLength(1);
    const [first, retry] = fake.apiRequests;
    expect(bearer(first)).toMatch(/^Bearer /);
    expect(bearer(retry)).toMatch(/^Bearer /);
    expect(bearer(retry)).not.toBe(bearer(first));
    expect(await retry.text()).toBe('{"query":"q"}');
  });

  it('gives up after one retry, with the server detail', async () => {
    const auth = fake.auth();
    setAuth(auth);
    await signIn(fake, auth);
    fake.api = () => Response.json({ detail: "the token has no 'custom:tenant' claim naming the tenant" }, { status: 401 });
    const response = await authFetch(new Request('http://localhost/api/documents'));
    expect(response.status).toBe(401);
    expect(fake.apiRequests).toHaveLength(2);
    expect((await response.json()).detail).toContain('custom:tenant');
  });

  it('is plain fetch without sign-in (the embedded default)', async () => {
    fake.api = () => new Response(null, { status: 401 });
    const response = await authFetch(new Request('http://localhost/api/documents'));
    expect(response.status).toBe(401);
    expect(fake.apiRequests).toHaveLength(1);
    expect(bearer(fake.apiRequests[0])).toBeNull();
    expect(fake.forms).toHaveLength(0);
  });
});

describe('sign-out', () => {
  it("forgets the tokens, ends the hosted UI session, and does not sign straight back in", async () => {
    const auth = fake.auth();
    setAuth(auth);
    await signIn(fake, auth);
    await auth.signOut();
    const logout = new URL(fake.navigations.at(-1)!);
    expect(logout.origin + logout.pathname).toBe(`${DOMAIN}/logout`);
    expect(logout.searchParams.get('client_id')).toBe('chat-client');
    expect(logout.searchParams.get('logout_uri')).toBe(`${window.location.origin}/`);
    expect(auth.state).toMatchObject({ status: 'signed-out', reason: 'signed-out' });
    expect(await getAccessToken()).toBeNull();
    expect(sessionStorage.getItem(SIGNED_OUT_KEY)).toBe('1');
    // Back from Cognito's /logout, the page offers sign-in rather than redirecting at once.
    expect(await fake.auth().start(new URL(`${window.location.origin}/`))).toMatchObject({ status: 'signed-out', reason: 'signed-out' });
  });
});
