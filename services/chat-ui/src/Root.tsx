// What the page shows first: it asks the API whether sign-in is needed (GET /api/ui-config).
// auth null (the embedded default): the chat page as is, no sign-in anywhere. Otherwise the
// Cognito session decides: signed in, the chat page with the person and a Sign out button;
// not signed in, straight to the hosted UI on a first visit, or a Sign in screen after
// signing out, a session that ended, or a failed sign-in.
import { useEffect, useRef, useState } from 'react';
import { App } from './App';
import { getUiConfig, type UiConfig } from './api/client';
import { CognitoAuth, setAuth, type AuthState, type UiAuth } from './api/auth';
import { historyKeyFor } from './state/history';

type View = { kind: 'starting' } | { kind: 'open' } | { kind: 'auth'; auth: CognitoAuth; state: AuthState };

interface Boot {
  auth: CognitoAuth | null;
  state: AuthState | null;
}

async function boot(loadConfig: () => Promise<UiConfig>, makeAuth: (c: UiAuth) => CognitoAuth): Promise<Boot> {
  let config: UiConfig | null = null;
  try {
    config = await loadConfig();
  } catch {
    // API unreachable (or too old to say): the chat page shows that failure itself.
  }
  if (!config?.auth) {
    setAuth(null);
    return { auth: null, state: null };
  }
  const auth = makeAuth(config.auth);
  setAuth(auth);
  const state = await auth.start();
  if (state.status === 'signed-out' && state.reason === 'new') void auth.signIn();
  return { auth, state };
}

const newCognitoAuth = (c: UiAuth): CognitoAuth => new CognitoAuth(c);

export function Root({
  loadConfig = getUiConfig,
  makeAuth = newCognitoAuth,
}: {
  loadConfig?: () => Promise<UiConfig>;
  makeAuth?: (c: UiAuth) => CognitoAuth;
}) {
  const [view, setView] = useState<View>({ kind: 'starting' });
  // Once per page load, even when StrictMode runs the effect twice (a code is good for one exchange).
  const booting = useRef<Promise<Boot> | null>(null);

  useEffect(() => {
    booting.current ??= boot(loadConfig, makeAuth);
    let live = true;
    let unsubscribe: (() => void) | undefined;
    void booting.current.then(({ auth, state }) => {
      if (!live) return;
      if (!auth || !state) return setView({ kind: 'open' });
      setView({ kind: 'auth', auth, state: auth.state });
      unsubscribe = auth.subscribe((s) => setView({ kind: 'auth', auth, state: s }));
    });
    return () => {
      live = false;
      unsubscribe?.();
    };
  }, []); // once per page load: the props are fixed for its life

  if (view.kind === 'open') return <App />;
  if (view.kind === 'auth' && view.state.status === 'signed-in') {
    const { auth, state } = view;
    return (
      <App
        key={state.subject}
        account={{ name: state.name, onSignOut: () => void auth.signOut() }}
        historyKey={historyKeyFor(state.subject)}
      />
    );
  }
  if (view.kind === 'auth' && view.state.status === 'signed-out') {
    const { auth, state } = view;
    return <SignIn state={state} onSignIn={() => void auth.signIn()} />;
  }
  return (
    <p className="signin muted" role="status">
      Loading…
    </p>
  );
}

const SIGNED_OUT_TEXT = {
  new: 'Taking you to sign in…',
  'signed-out': 'You are signed out.',
  expired: 'Your session has ended. Sign in again to continue.',
  error: 'Sign-in failed.',
} as const;

export function SignIn({
  state,
  onSignIn,
}: {
  state: Extract<AuthState, { status: 'signed-out' }>;
  onSignIn(): void;
}) {
  const problem = state.reason === 'error' || state.reason === 'expired';
  return (
    <main className="signin" aria-labelledby="signin-title">
      <div className="signin-card">
        <h1 id="signin-title">RAGOps</h1>
        <p className={problem ? 'error' : 'muted'} role={problem ? 'alert' : 'status'}>
          {state.message ?? SIGNED_OUT_TEXT[state.reason]}
        </p>
        <button type="button" onClick={onSignIn}>
          Sign in
        </button>
      </div>
    </main>
  );
}
