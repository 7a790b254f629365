// What the Node suites of the service share (vm_mcp, vm_e2b): their
// arguments, checks that count, a real cubicled on a free port over a
// fresh data dir, and the npm packages `make web` installed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// --name value pairs into an object; exits 2 naming the first one missing.
export function parseArgs(argv, needed, who) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const a of needed) {
    if (!args[a]) {
      console.error(`${who}: --${a} is needed`);
      process.exit(2);
    }
  }
  return args;
}

// The node_modules folder `make web` laid out (its modules.path).
export const modulesOf = (webDir) => readFileSync(join(webDir, 'modules.path'), 'utf8').trim();

let passed = 0, failed = 0;
export function check(ok, what) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  return ok;
}

// Prints the count and exits 1 if anything failed.
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// What fn threw, or null.
export async function raises(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return null;
}

// cubicled on 127.0.0.1:0 over data, no networks: its process, URL and API key.
export async function startCubicled(binary, data, guestDir) {
  const proc = spawn(binary, ['--data-dir', data, '--listen', '127.0.0.1:0',
    '--guest-dir', guestDir, '--no-network'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout });
  const url = await new Promise((resolve, reject) => {
    lines.on('line', (l) => {
      const m = l.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`cubicled exited (${code})`)));
  });
  return { proc, url, key: readFileSync(join(data, 'api-key'), 'utf8').split('\n')[0] };
}

// Stops it (SIGTERM) and waits for it to exit.
export async function stopCubicled(d) {
  d.proc.kill('SIGTERM');
  await new Promise((r) => d.proc.on('exit', r));
}
