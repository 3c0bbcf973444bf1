// Helpers shared by the browser tests: one place for waiting, free ports and child processes.
import { spawn } from 'node:child_process';
import net from 'node:net';

// Every process `start` launched, so a failing run can print their output and stop them all.
export const children = [];

export function fail(msg) {
  throw new Error(msg);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function until(what, fn, timeoutMs, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function start(cmd, args, opts, name) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.on('error', (e) => (output += `\n${name} could not start: ${e.message}`));
  const handle = { child, name, output: () => output };
  children.push(handle);
  return handle;
}

export function stop(handle) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try { process.kill(-handle.child.pid, 'SIGKILL'); } catch { /* gone */ }
      resolve();
    }, 10_000);
    handle.child.once('exit', () => { clearTimeout(timer); resolve(); });
    try { process.kill(-handle.child.pid, 'SIGTERM'); } catch { clearTimeout(timer); resolve(); }
  });
}
