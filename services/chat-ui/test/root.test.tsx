import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Root } from '../src/Root';
import { getAuth, setAuth } from '../src/api/auth';
import { historyKeyFor, STORAGE_KEY } from '../src/state/history';
import { CONFIG, DOMAIN, FakeCognito, signIn } from './cognito';

let fake: FakeCognito;

beforeEach(() => {
  fake = new FakeCognito();
  vi.stubGlobal('fetch', fake.fetch);
});

afterEach(() => {
  setAuth(null);
  vi.unstubAllGlobals();
  sessionStorage.clear();
  window.history.replaceState(null, '', '/');
});

const withAuth = () => Promise.resolve({ auth: CONFIG });

describe('Root', () => {
  it('shows the chat page with no sign-in at all when the API needs no token', async () => {
    render(<Root loadConfig={() => Promise.resolve({ auth: null })} />);
    await screen.findAllByText('No documents yet', { exact: false });
    expect(screen.queryByRole('button', { name: 'Sign in' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
    expect(getAuth()).toBeNull();
    expect(bearers()).toEqual([null]);
  });

  it('still shows the chat page (and its own failure) when the config cannot be read', async () => {
    render(<Root loadConfig={() => Promise.reject(new Error('unreachable'))} />);
    await screen.findByText('Documents', { selector: 'h2' });
    expect(screen.queryByRole('button', { name: 'Sign in' })).toBeNull();
  });

  it('takes a first-time visitor straight to the hosted UI', async () => {
    render(<Root loadConfig={withAuth} makeAuth={(c) => fake.auth(c)} />);
    await screen.findByText('Taking you to sign in…');
    await waitFor(() => expect(fake.navigations).toHaveLength(1));
    expect(fake.navigations[0]).toMatch(new RegExp(`^${DOMAIN}/oauth2/authorize\\?`));
    expect(fake.apiRequests).toHaveLength(0); // nothing asked of the API before sign-in
  });

  it('signed in: names the person, sends the token, keeps their conversations apart, signs out', async () => {
    await signIn(fake, fake.auth()); // a session in this tab, as after the redirect back
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ conversations: [{ id: 'c', title: 'Someone else’s', createdAt: 1, turns: [] }], currentId: 'c' }));
    render(<Root loadConfig={withAuth} makeAuth={(c) => fake.auth(c)} />);
    expect(await screen.findByText('ada@example.com')).toBeInTheDocument();
    expect(screen.getByText('Signed in as', { exact: false })).toBeInTheDocument();
    await screen.findAllByText('No documents yet', { exact: false });
    expect(bearers()[0]).toMatch(/^Bearer ey/);
    expect(screen.queryByText('Someone else’s')).toBeNull();
    await waitFor(() => expect(localStorage.getItem(historyKeyFor('user-1'))).not.toBeNull());

    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText('You are signed out.')).toBeInTheDocument();
    expect(fake.navigations.at(-1)).toMatch(new RegExp(`^${DOMAIN}/logout\\?`));
    const navigations = fake.navigations.length;
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(fake.navigations).toHaveLength(navigations + 1));
    expect(fake.navigations.at(-1)).toMatch(new RegExp(`^${DOMAIN}/oauth2/authorize\\?`));
  });

  it('says so when the session ends', async () => {
    await signIn(fake, fake.auth());
    fake.refuseRefresh = true;
    fake.api = () => Response.json({ detail: 'invalid token: Signature has expired' }, { status: 401 });
    render(<Root loadConfig={withAuth} makeAuth={(c) => fake.auth(c)} />);
    expect(await screen.findByRole('alert')).toHaveTextContent('Your session has ended. Sign in again to continue.');
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });
});

function bearers(): (string | null)[] {
  return fake.apiRequests.map((r) => r.headers.get('Authorization'));
}
