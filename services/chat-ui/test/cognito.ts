// A stand-in for Cognito's token endpoint (and the API behind it) as a fetch stub, for the auth tests.
import { createHash } from 'node:crypto';
import { vi } from 'vitest';
import { CognitoAuth, type UiAuth } from '../src/api/auth';

export const DOMAIN = 'https://ragops-test.auth.eu-west-1.amazoncognito.com';
export const CONFIG: UiAuth = { domain: DOMAIN, client_id: 'chat-client', scopes: 'openid email profile', redirect_path: '/', token: 'access' };

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
export const s256 = (verifier: string) => b64url(createHash('sha256').update(verifier).digest());

/** An unsigned-looking JWT (the page never verifies signatures; the API does). */
export function jwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'RS256', kid: 'k' }))}.${b64url(JSON.stringify(claims))}.c2ln`;
}

type ApiHandler = (request: Request) => Response | Promise<Response>;

export class FakeCognito {
  ttl = 3600;
  issued = 0;
  forms: URLSearchParams[] = [];
  refuseRefresh = false;
  apiRequests: Request[] = [];
  api: ApiHandler = () => Response.json([]);
  navigations: string[] = [];

  tokens(): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    const n = ++this.issued;
    const common = { sub: 'user-1', iat: now, exp: now + this.ttl, iss: 'https://cognito-idp.example/pool' };
    return {
      access_token: jwt({ ...common, token_use: 'access', client_id: CONFIG.client_id, n }),
      id_token: jwt({ ...common, token_use: 'id', aud: CONFIG.client_id, email: 'ada@example.com', n }),
      token_type: 'Bearer',
      expires_in: this.ttl,
    };
  }

  /** The fetch stub: the token endpoint here, everything else to `api`. */
  fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    if (request.url === `${DOMAIN}/oauth2/token`) {
      const form = new URLSearchParams(await request.text());
      this.forms.push(form);
      if (form.get('grant_type') === 'authorization_code') return Response.json({ ...this.tokens(), refresh_token: 'refresh-1' });
      if (this.refuseRefresh || form.get('refresh_token') !== 'refresh-1')
        return Response.json({ error: 'invalid_grant', error_description: 'Refresh Token has expired' }, { status: 400 });
      return Response.json(this.tokens()); // Cognito sends no new refresh token
    }
    this.apiRequests.push(request);
    return this.api(request);
  });

  auth(config: UiAuth = CONFIG): CognitoAuth {
    return new CognitoAuth(config, { origin: window.location.origin, navigate: (url) => this.navigations.push(url) });
  }

  refreshForms(): URLSearchParams[] {
    return this.forms.filter((f) => f.get('grant_type') === 'refresh_token');
  }
}

/** Sign in as the hosted UI would: authorize, come back with a code, exchange it. */
export async function signIn(fake: FakeCognito, auth: CognitoAuth): Promise<URL> {
  await auth.signIn();
  const authorize = new URL(fake.navigations.at(-1)!);
  const back = new URL(`${window.location.origin}${CONFIG.redirect_path}`);
  back.searchParams.set('code', 'code-1');
  back.searchParams.set('state', authorize.searchParams.get('state')!);
  await auth.start(back);
  return authorize;
}
