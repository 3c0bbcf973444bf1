// Sign-in through a Cognito hosted UI: OAuth 2.0 authorization code flow with PKCE (S256),
// done by oidc-client-ts. The API says at GET /api/ui-config whether the page signs in and
// where; with `auth: null` (the embedded default) none of this runs and no header is sent.
//
// Every API call — typed client (and so the SSE stream), XHR uploads — takes its token
// from here: `authFetch` for fetch, `authHeaders` + `refreshAfter401` for XHR.
//
// Cognito's hosted UI domain is not an OIDC discovery document's issuer (tokens are
// issued by cognito-idp.REGION.amazonaws.com/POOL), so the endpoints are given
// explicitly: {domain}/oauth2/authorize, {domain}/oauth2/token, {domain}/logout.
import { ErrorResponse, OidcClient, UserManager, WebStorageStateStore, type User, type UserManagerSettings } from 'oidc-client-ts';
import type { components } from './schema';

export type UiAuth = components['schemas']['UiAuth'];

export type AuthState =
  | { status: 'loading' }
  | { status: 'signed-in'; name: string; subject: string }
  /** `reason`: never signed in here, signed out on purpose, session ended (refresh refused), or a sign-in error. */
  | { status: 'signed-out'; reason: 'new' | 'signed-out' | 'expired' | 'error'; message?: string };

/** Set by signOut so that landing on the page again does not sign straight back in. */
export const SIGNED_OUT_KEY = 'ragops.auth.signed-out';

const MAX_MARGIN_S = 60;

/** Claims of a JWT, without verifying it (the API verifies; the page only needs the times). */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * When (epoch ms) to refresh a token: ahead of its expiry by a quarter of its lifetime, at
 * most 60 s (a one-hour Cognito token refreshes after 59 min, a 20 s one after 15 s).
 * `fallbackExpiresAt` (epoch s, from the token response's expires_in) is used when the
 * token carries no exp/iat.
 */
export function refreshAtMs(token: string, fallbackExpiresAt?: number): number | null {
  const claims = jwtClaims(token);
  const exp = typeof claims?.exp === 'number' ? claims.exp : fallbackExpiresAt;
  if (exp === undefined) return null;
  const iat = typeof claims?.iat === 'number' ? claims.iat : exp - 2 * MAX_MARGIN_S * 4;
  const margin = Math.min(MAX_MARGIN_S, Math.max(0, exp - iat) / 4);
  return (exp - margin) * 1000;
}

export interface AuthOptions {
  /** Where the page is (tests pass their own). */
  origin?: string;
  /** Navigation to the hosted UI (tests capture it). */
  navigate?: (url: string) => void;
  /** Where tokens are kept: sessionStorage (this tab only; gone when it closes). */
  userStore?: Storage;
  /** Where the PKCE verifier and state wait during the redirect. */
  stateStore?: Storage;
  now?: () => number;
}

export class CognitoAuth {
  readonly manager: UserManager;
  private readonly client: OidcClient;
  private listeners = new Set<(s: AuthState) => void>();
  private current: AuthState = { status: 'loading' };
  private refreshing: Promise<string | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly origin: string;
  private readonly navigate: (url: string) => void;
  private readonly now: () => number;
  private readonly flags: Storage;

  constructor(
    readonly config: UiAuth,
    options: AuthOptions = {},
  ) {
    this.origin = options.origin ?? window.location.origin;
    this.navigate = options.navigate ?? ((url) => window.location.assign(url));
    this.now = options.now ?? (() => Date.now());
    this.flags = options.userStore ?? sessionStorage;
    const domain = config.domain.replace(/\/+$/, '');
    const settings: UserManagerSettings = {
      authority: domain,
      metadata: {
        issuer: domain,
        authorization_endpoint: `${domain}/oauth2/authorize`,
        token_endpoint: `${domain}/oauth2/token`,
        revocation_endpoint: `${domain}/oauth2/revoke`,
        end_session_endpoint: `${domain}/logout`,
      },
      client_id: config.client_id,
      redirect_uri: this.origin + config.redirect_path,
      response_type: 'code',
      scope: config.scopes,
      loadUserInfo: false,
      monitorSession: false,
      automaticSilentRenew: false, // refreshed here, on our own timing (refreshAtMs)
      userStore: new WebStorageStateStore({ store: options.userStore ?? sessionStorage }),
      stateStore: new WebStorageStateStore({ store: options.stateStore ?? localStorage }),
    };
    this.manager = new UserManager(settings);
    // The same settings and state store: UserManager.signinRedirectCallback finds what this stored.
    this.client = new OidcClient(settings);
  }

  get state(): AuthState {
    return this.current;
  }

  subscribe(listener: (s: AuthState) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private set(state: AuthState): void {
    this.current = state;
    for (const l of this.listeners) l(state);
  }

  /** The bearer token the API wants (access or ID token, per the API's config). */
  private tokenOf(user: User): string {
    return (this.config.token === 'id' ? user.id_token : user.access_token) ?? '';
  }

  private signedIn(user: User): void {
    const p = user.profile;
    const name = [p.email, p['cognito:username'], p.preferred_username, p.name, p.sub].find(
      (v): v is string => typeof v === 'string' && v.length > 0,
    );
    this.set({ status: 'signed-in', name: name ?? 'signed in', subject: p.sub });
    this.schedule(user);
  }

  private schedule(user: User): void {
    clearTimeout(this.timer);
    const at = refreshAtMs(this.tokenOf(user), user.expires_at);
    if (at === null || !user.refresh_token) return;
    this.timer = setTimeout(() => void this.refresh(), Math.max(0, at - this.now()));
  }

  /**
   * On load: finish a sign-in if Cognito just sent the browser back here (?code=&state=),
   * else pick up the tab's session. Resolves to the state (also announced to subscribers).
   */
  async start(location: Location | URL = window.location): Promise<AuthState> {
    const url = new URL(location.href);
    const params = url.searchParams;
    if (url.pathname === this.config.redirect_path && params.has('state') && (params.has('code') || params.has('error'))) {
      let returnTo = this.config.redirect_path;
      try {
        const user = await this.manager.signinRedirectCallback(url.href);
        const wanted = (user.state as { returnTo?: unknown } | undefined)?.returnTo;
        if (typeof wanted === 'string' && wanted.startsWith('/')) returnTo = wanted;
        this.flags.removeItem(SIGNED_OUT_KEY);
        window.history.replaceState(null, '', returnTo);
        this.signedIn(user);
        return this.current;
      } catch (e) {
        window.history.replaceState(null, '', returnTo);
        // A reload of the callback URL (its state already used) falls through to the session.
        if (e instanceof ErrorResponse || !(await this.manager.getUser())) {
          this.set({ status: 'signed-out', reason: 'error', message: `Sign-in failed: ${describe(e)}` });
          return this.current;
        }
      }
    }
    const user = await this.manager.getUser();
    if (!user) {
      this.set({ status: 'signed-out', reason: this.flags.getItem(SIGNED_OUT_KEY) ? 'signed-out' : 'new' });
      return this.current;
    }
    this.signedIn(user);
    if (this.due(user)) await this.refresh();
    return this.current;
  }

  private due(user: User): boolean {
    const at = refreshAtMs(this.tokenOf(user), user.expires_at);
    return at !== null && this.now() >= at;
  }

  /** A token for the next request: refreshed first when it is due. null: not signed in. */
  async token(): Promise<string | null> {
    if (this.refreshing) return this.refreshing;
    const user = await this.manager.getUser();
    if (!user) return null;
    if (this.due(user) && user.refresh_token) return this.refresh();
    return this.tokenOf(user) || null;
  }

  /**
   * Trade the refresh token for new tokens (one request however many callers ask at once).
   * Cognito refusing it (expired or revoked) ends the session; a network failure does not.
   */
  refresh(): Promise<string | null> {
    this.refreshing ??= (async () => {
      try {
        const user = await this.manager.getUser();
        if (!user?.refresh_token) return null;
        const fresh = await this.manager.signinSilent(); // with a refresh token: the refresh_token grant, no iframe
        if (!fresh) return null;
        this.signedIn(fresh);
        return this.tokenOf(fresh) || null;
      } catch (e) {
        if (e instanceof ErrorResponse) {
          clearTimeout(this.timer);
          await this.manager.removeUser();
          this.set({ status: 'signed-out', reason: 'expired', message: 'Your session has ended. Sign in again to continue.' });
        }
        return null;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Off to the hosted UI; back at redirect_path with a code, then to where the person was. */
  async signIn(): Promise<void> {
    this.flags.removeItem(SIGNED_OUT_KEY);
    const here = new URL(window.location.href);
    // Stores state + PKCE verifier, builds the authorize URL with code_challenge (S256).
    const request = await this.client.createSigninRequest({
      request_type: 'si:r',
      state: { returnTo: here.pathname + here.search + here.hash },
    });
    this.navigate(request.url);
  }

  /** Forget the tokens here, then end the hosted UI's session (Cognito's /logout needs client_id and logout_uri). */
  async signOut(): Promise<void> {
    clearTimeout(this.timer);
    this.flags.setItem(SIGNED_OUT_KEY, '1');
    await this.manager.removeUser();
    this.set({ status: 'signed-out', reason: 'signed-out' });
    const logout = new URL(`${this.config.domain.replace(/\/+$/, '')}/logout`);
    logout.searchParams.set('client_id', this.config.client_id);
    logout.searchParams.set('logout_uri', this.origin + this.config.redirect_path);
    this.navigate(logout.href);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

function describe(e: unknown): string {
  if (e instanceof ErrorResponse) return e.error_description || e.error || e.message;
  return e instanceof Error ? e.message : String(e);
}

// The page's one session, when the API asks for sign-in.
let session: CognitoAuth | null = null;

export function setAuth(auth: CognitoAuth | null): void {
  session?.stop();
  session = auth;
}

export function getAuth(): CognitoAuth | null {
  return session;
}

export async function getAccessToken(): Promise<string | null> {
  return session ? session.token() : null;
}

export async function authHeaders(): Promise<Record<string, string>> {
  const token = await getAccessToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** After a 401: a fresh token to retry with once, or null (no session, or the refresh failed). */
export async function refreshAfter401(): Promise<string | null> {
  return session ? session.refresh() : null;
}

/**
 * fetch with the bearer token; on a 401, refresh and retry once. Without a session
 * (the embedded default) it is plain fetch.
 */
export async function authFetch(request: Request): Promise<Response> {
  if (!session) return globalThis.fetch(request);
  const retry = request.clone();
  const token = await session.token();
  if (token) request.headers.set('Authorization', `Bearer ${token}`);
  const response = await globalThis.fetch(request);
  if (response.status !== 401) return response;
  const fresh = await refreshAfter401();
  if (!fresh || fresh === token) return response;
  retry.headers.set('Authorization', `Bearer ${fresh}`);
  return globalThis.fetch(retry);
}
