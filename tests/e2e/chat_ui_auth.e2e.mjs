#!/usr/bin/env node
// End-to-end test of the chat page's sign-in, in headless Chromium, against a real
// `ragops serve` that requires JWTs and a local fake of Cognito's hosted UI
// (tests/e2e/cognito_fake.py: authorize, token with PKCE, refresh, logout, JWKS).
//
//   node tests/e2e/chat_ui_auth.e2e.mjs
//
// Needs what chat_ui.e2e.mjs needs (the built page, Debian's chromium, `ragops`), plus a
// Python with PyJWT and cryptography for the fake (RAGOPS_PYTHON, else the python beside
// RAGOPS_BIN, else python3). Screenshots go to test-output/e2e-auth/ (RAGOPS_E2E_OUT).
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, fail, freePort, start, stop, until } from './e2e_support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const uiDir = path.join(repo, 'services/chat-ui');
const require = createRequire(path.join(uiDir, 'package.json'));
const { chromium } = require('playwright-core');

const SHARED = process.env.RAGOPS_SHARED_DIR ?? path.resolve(repo, '../shared/datasets');
const PDF = path.join(SHARED, 'pdfs/format-corpus/govdocs1-error-pdfs/error_set_1/008677.pdf');
const OUT = path.resolve(process.env.RAGOPS_E2E_OUT ?? path.join(repo, 'test-output/e2e-auth'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const QUESTION = 'Which DEA form do Principal Investigators sign?';
const TOKEN_TTL_S = 10; // short-lived tokens: the page refreshes them every 7.5 s during the test
const TOTAL_DEADLINE_MS = 4 * 60_000;

const ragopsBin =
  process.env.RAGOPS_BIN ?? (existsSync(path.join(repo, '.venv/bin/ragops')) ? path.join(repo, '.venv/bin/ragops') : 'ragops');
const besideRagops = path.isAbsolute(ragopsBin) ? path.join(path.dirname(ragopsBin), 'python') : null;
const python = process.env.RAGOPS_PYTHON ?? (besideRagops && existsSync(besideRagops) ? besideRagops : 'python3');

const started = Date.now();
let browser;
const log = (msg) => console.log(`[e2e-auth +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

async function main() {
  for (const [what, p] of [['evaluation PDF', PDF], ['chromium', CHROMIUM], ['chat UI build (npm run build)', path.join(repo, 'services/ragops_api/static/chat/index.html')]])
    if (!existsSync(p)) fail(`${what} not found at ${p}`);
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (f.endsWith('.png')) rmSync(path.join(OUT, f));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ragops-e2e-auth-'));
  const timings = {};

  // 1. The fake hosted UI, registered with the page's callback (and sign-out) URL.
  const apiPort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  const fakeProc = start(python, [path.join(here, 'cognito_fake.py'), '--callback', `${api}/`, '--access-ttl', String(TOKEN_TTL_S), '--tenant', 'acme'], { cwd: repo }, 'cognito fake');
  const cognito = await until('the Cognito fake', () => {
    if (fakeProc.child.exitCode !== null) fail(`the Cognito fake exited (${fakeProc.child.exitCode}):\n${fakeProc.output()}`);
    const line = fakeProc.output().split('\n').find((l) => l.startsWith('{'));
    return line ? JSON.parse(line) : null;
  }, 30_000, 100);
  const stats = async () => (await fetch(`${cognito.url}/stats`)).json();
  log(`Cognito fake on ${cognito.url}`);

  // 2. The server, requiring tokens from it, and telling the page where to sign in.
  log(`starting ${ragopsBin} serve on ${api} (data ${dataDir})`);
  const server = start(ragopsBin, ['serve', '--host', '127.0.0.1', '--port', String(apiPort), '--data-dir', dataDir], {
    cwd: repo,
    env: {
      ...process.env,
      RAGOPS_AUTH_JWKS_URL: cognito.jwks_url,
      RAGOPS_AUTH_ISSUER: cognito.issuer,
      RAGOPS_AUTH_AUDIENCE: cognito.client_id,
      RAGOPS_UI_OIDC_DOMAIN: cognito.url,
      RAGOPS_UI_OIDC_CLIENT_ID: cognito.client_id,
    },
  }, 'ragops serve');
  await until('ragops serve /readyz', async () => {
    if (server.child.exitCode !== null) fail(`ragops serve exited (${server.child.exitCode}):\n${server.output()}`);
    return (await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
  }, 90_000);
  log('server ready');
  const index = await fetch(`${api}/`);
  if (!(await index.text()).includes('id="root"')) fail('ragops serve does not serve the chat page at /');

  // 3. Without a token the API refuses; the page's config says where to sign in.
  for (const [method, p] of [['GET', '/api/documents'], ['POST', '/api/ask'], ['POST', '/api/ask/stream']]) {
    const r = await fetch(`${api}${p}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? JSON.stringify({ query: QUESTION }) : undefined });
    if (r.status !== 401 || !(r.headers.get('www-authenticate') ?? '').startsWith('Bearer')) fail(`${method} ${p} without a token answered ${r.status}`);
  }
  const config = await (await fetch(`${api}/api/ui-config`)).json();
  if (config.auth?.domain !== cognito.url || config.auth?.client_id !== cognito.client_id) fail(`/api/ui-config: ${JSON.stringify(config)}`);

  // 4. The browser: every API call it makes, with the token it carried and the answer.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.on('dialog', (d) => void d.accept());
  const calls = [];
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin !== api || !url.pathname.startsWith('/api/')) return;
    calls.push({ path: url.pathname, auth: response.request().headers().authorization ?? null, status: response.status() });
  });
  const shot = async (name) => {
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: false });
    log(`screenshot ${name}.png`);
  };
  const signedIn = () => page.getByText('ada@example.com').waitFor({ timeout: 30_000 });

  // 5. Opening the page goes to the hosted UI and comes back signed in.
  const t0 = Date.now();
  await page.goto(api, { waitUntil: 'load', timeout: 30_000 });
  await signedIn();
  timings.sign_in_s = (Date.now() - t0) / 1000;
  const afterSignIn = await stats();
  if (afterSignIn.authorize !== 1 || afterSignIn.token_code !== 1) fail(`expected one authorize and one code exchange: ${JSON.stringify(afterSignIn)}`);
  if (new URL(page.url()).search) fail(`the code is still in the address bar: ${page.url()}`);
  await page.getByText('No documents yet', { exact: false }).first().waitFor({ timeout: 15_000 });
  await shot('01-signed-in');

  // 6. Upload the PDF and follow it to ready.
  const t1 = Date.now();
  await page.getByTestId('file-input').setInputFiles(PDF);
  const item = page.locator('.upload', { hasText: '008677.pdf' });
  await until('008677.pdf to be ready', async () => {
    const phase = await item.getAttribute('data-phase');
    if (phase === 'failed') fail(`ingestion failed: ${await item.innerText()}`);
    return phase === 'ready';
  }, 180_000, 100);
  timings.upload_to_ready_s = (Date.now() - t1) / 1000;
  await page.getByRole('button', { name: 'Delete 008677.pdf' }).waitFor({ timeout: 10_000 });
  await shot('02-uploaded');

  // 7. Ask; the streamed answer cites the file and page.
  const ask = async (question, n) => {
    await page.getByLabel('Your question').fill(question);
    await page.getByLabel('Your question').press('Enter');
    const turn = page.locator('.turn').nth(n).locator('.answer');
    await until(`answer ${n + 1}`, async () => {
      const status = await turn.getAttribute('data-status');
      if (status === 'error') fail(`the answer failed: ${await turn.innerText()}`);
      return status === 'done';
    }, 60_000, 100);
    const text = await turn.locator('.answer-text').innerText();
    if (!/DEA form 225/i.test(text)) fail(`unexpected answer: ${text}`);
    const source = await turn.locator('.sources summary').first().innerText();
    if (!source.includes('008677.pdf') || !source.includes('page 2')) fail(`first source is "${source}"`);
  };
  await ask(QUESTION, 0);
  await shot('03-answer-with-sources');

  // 8. The tokens live 10 s: the page refreshes them ahead of expiry and keeps working.
  await until('a token refresh', async () => (await stats()).token_refresh >= 1, 30_000, 250);
  await ask(QUESTION, 1);

  // ... and a token the API refuses (here: its signature spoilt in storage) is refreshed
  // after the 401 and the call retried once, without the person noticing.
  const spoilt = await page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
    const user = JSON.parse(sessionStorage.getItem(key));
    const [h, p, s] = user.access_token.split('.');
    user.access_token = `${h}.${p}.${s.slice(0, -8)}AAAAAAAA`;
    sessionStorage.setItem(key, JSON.stringify(user));
    return user.access_token;
  });
  const refreshesBefore = (await stats()).token_refresh;
  await ask(QUESTION, 2);
  const refused = calls.find((c) => c.auth === `Bearer ${spoilt}`);
  if (!refused || refused.status !== 401) fail(`the spoilt token was not sent or not refused: ${JSON.stringify(refused)}`);
  const retried = calls.slice(calls.indexOf(refused) + 1).find((c) => c.path === refused.path);
  if (!retried || retried.status !== 200 || retried.auth === refused.auth) fail(`no retry with a fresh token after the 401: ${JSON.stringify(retried)}`);
  if ((await stats()).token_refresh <= refreshesBefore) fail('the 401 did not trigger a refresh');
  await shot('04-after-refresh');

  const unsigned = calls.filter((c) => c.path !== '/api/ui-config' && !(c.auth ?? '').startsWith('Bearer '));
  if (unsigned.length) fail(`API calls without a token: ${JSON.stringify(unsigned)}`);
  const tokens = new Set(calls.filter((c) => c.status === 200 && c.auth).map((c) => c.auth));
  if (tokens.size < 2) fail('every successful call used the same token: no refresh was put to use');
  timings.api_calls = calls.length;
  timings.distinct_tokens = tokens.size;
  timings.refreshes = (await stats()).token_refresh;

  // 9. Sign out: Cognito's /logout, back to the page, signed out (no automatic sign-in).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  if ((await stats()).logout !== 1) fail('the hosted UI session was not ended (/logout)');
  if (await page.evaluate(() => Object.keys(sessionStorage).some((k) => k.startsWith('oidc.user:')))) fail('tokens left in storage after sign-out');
  if ((await stats()).authorize !== 1) fail('signed straight back in after signing out');
  await shot('05-signed-out');

  // 10. Signing in again: the same person, the same tenant's documents.
  await page.getByRole('button', { name: 'Sign in' }).click();
  await signedIn();
  await page.getByRole('button', { name: 'Delete 008677.pdf' }).waitFor({ timeout: 15_000 });
  await shot('06-signed-in-again');

  const unexpected = pageErrors.filter((e) => !/Failed to load resource.*401|status of 401/.test(e));
  if (unexpected.length) fail(`errors in the page: ${unexpected.join(' | ')}`);
  timings.total_s = (Date.now() - started) / 1000;
  writeFileSync(path.join(OUT, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  log(`PASS ${JSON.stringify(timings)}`);
  rmSync(dataDir, { recursive: true, force: true });
}

const watchdog = setTimeout(() => {
  console.error(`[e2e-auth] FAIL: the whole test exceeded ${TOTAL_DEADLINE_MS / 1000} s`);
  for (const c of children) try { process.kill(-c.child.pid, 'SIGKILL'); } catch { /* gone */ }
  process.exit(1);
}, TOTAL_DEADLINE_MS);

let code = 0;
try {
  await main();
} catch (e) {
  code = 1;
  console.error(`\n[e2e-auth] FAIL: ${e.stack ?? e}`);
  for (const c of children) console.error(`--- ${c.name} output (last 3000 chars) ---\n${c.output().slice(-3000)}`);
  try {
    const pages = browser?.contexts().flatMap((c) => c.pages()) ?? [];
    if (pages[0]) await pages[0].screenshot({ path: path.join(OUT, 'failure.png') }), console.error(`screenshot: ${path.join(OUT, 'failure.png')}`);
  } catch { /* best effort */ }
} finally {
  await browser?.close().catch(() => {});
  await Promise.all(children.map(stop));
  clearTimeout(watchdog);
}
process.exit(code);
