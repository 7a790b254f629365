// vm_web: the web console in a real browser (Debian's Chromium, headless,
// driven by playwright-core) against a real cubicled and a real `minimal`
// sandbox. Signs in, creates a sandbox from the page, checks that the noVNC
// canvas shows what the API's screenshot shows, types into the canvas and
// finds the text in the guest, runs a command in the console panel, uploads
// a file through the page and finds it in the guest, sees the activity, and
// kills the sandbox from the page. Screenshots of the page go to --out.
//
//   node test_web.mjs --cubicled PATH --guest-dir DIR --web-dir DIR --out DIR
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const a of ['cubicled', 'guest-dir', 'web-dir', 'out']) {
  if (!args[a]) {
    console.error(`test_web: --${a} is needed`);
    process.exit(2);
  }
}
const modules = readFileSync(join(args['web-dir'], 'modules.path'), 'utf8').trim();
const { chromium } = createRequire(join(modules, 'x.js'))('playwright-core');
const CHROMIUM = process.env.CUBICLE_CHROMIUM || '/usr/bin/chromium';

let passed = 0, failedChecks = 0;
function check(ok, what) {
  if (ok) passed++;
  else failedChecks++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  return ok;
}
const log = (m) => console.log(`-- ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// cubicled on a free port over a fresh data dir: its URL from the first stdout line.
async function startCubicled(data) {
  const proc = spawn(args.cubicled, ['--data-dir', data, '--listen', '127.0.0.1:0',
    '--guest-dir', args['guest-dir'], '--web-dir', args['web-dir'], '--no-network'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.pipe(createWriteStream(join(args.out, 'cubicled.log')));     // logfmt lines
  const lines = createInterface({ input: proc.stdout });
  const url = await new Promise((resolve, reject) => {
    lines.on('line', (l) => {
      const m = l.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`cubicled exited (${code})`)));
  });
  const key = readFileSync(join(data, 'api-key'), 'utf8').split('\n')[0];
  return { proc, url, key };
}

async function api(d, method, path, body) {
  const resp = await fetch(d.url + path, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { Authorization: `Bearer ${d.key}`, 'Content-Type': 'application/json' },
  });
  const text = await resp.text();
  return { status: resp.status, json: text ? JSON.parse(text) : null };
}

async function guest(d, id, cmd) {
  const r = await api(d, 'POST', `/sandboxes/${id}/commands`, { cmd });
  return r.status === 200 ? r.json : { stdout: '', stderr: JSON.stringify(r.json), exit_code: -1 };
}

async function until(what, fn, ms = 30000, every = 250) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => false);
    if (v || Date.now() > end) return v;
    await sleep(every);
  }
}

// In the page: the noVNC canvas against a PNG from the API, pixel by pixel.
// Answers the share of pixels within a small tolerance, and how many
// distinct colours the canvas has (a blank one has one).
async function compareWithApi(page, id) {
  return page.evaluate(async (sid) => {
    const canvas = document.querySelector('#viewer canvas');
    if (!canvas || !canvas.width) return { match: 0, colours: 0, why: 'no canvas' };
    const key = localStorage.getItem('cubicle.api-key');
    const resp = await fetch(`/sandboxes/${sid}/screenshot?format=png`, { headers: { Authorization: `Bearer ${key}` } });
    const img = await createImageBitmap(await resp.blob());
    if (img.width !== canvas.width || img.height !== canvas.height)
      return { match: 0, colours: 0, why: `sizes ${img.width}x${img.height} vs ${canvas.width}x${canvas.height}` };
    const c2 = new OffscreenCanvas(img.width, img.height);
    const ctx2 = c2.getContext('2d');
    ctx2.drawImage(img, 0, 0);
    const want = ctx2.getImageData(0, 0, img.width, img.height).data;
    const have = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let same = 0;
    const colours = new Set();
    for (let i = 0; i < want.length; i += 4) {
      if (Math.abs(want[i] - have[i]) <= 8 && Math.abs(want[i + 1] - have[i + 1]) <= 8 &&
          Math.abs(want[i + 2] - have[i + 2]) <= 8) same++;
      if (colours.size < 1000) colours.add((have[i] << 16) | (have[i + 1] << 8) | have[i + 2]);
    }
    return { match: same / (want.length / 4), colours: colours.size, why: '' };
  }, id);
}

async function main() {
  mkdirSync(args.out, { recursive: true });
  const data = mkdtempSync(join(tmpdir(), 'cubicle-web-'));
  const d = await startCubicled(data);
  log(`cubicled at ${d.url}`);
  // A closed network: nothing beyond the host, no background fetches.
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-domain-reliability', '--metrics-recording-only',
      '--disable-features=Translate,OptimizationHints,MediaRouter', '--dns-prefetch-disable'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (dlg) => dlg.accept());
  const shot = (name) => page.screenshot({ path: join(args.out, `${name}.png`) });
  let id = null;
  try {
    // Sign in: a wrong key is refused, the right one shows the list.
    await page.goto(d.url + '/');
    await page.fill('#api-key', 'not-the-key-at-all');
    await page.click('#signin button[type=submit]');
    check(await until('refusal', async () => (await page.textContent('#notice')).includes('not the one')),
      'a wrong key is refused on the page');
    await page.fill('#api-key', d.key);
    await page.click('#signin button[type=submit]');
    check(await until('list', async () => page.isVisible('#create')), 'signed in: the create form shows');
    await shot('1-list');

    // Create a minimal sandbox from the form; the page opens it.
    await page.selectOption('#create-template', 'minimal');
    await page.fill('#create-resolution', '1024x640');
    await page.click('#create');
    log('creating a minimal sandbox (it boots under TCG)');
    check(await until('sandbox page', async () => /#\/sandbox\/[0-9a-f]+$/.test(page.url()), 300000, 500),
      'create opens the sandbox page');
    id = page.url().split('/').pop();
    const got = await api(d, 'GET', `/sandboxes/${id}`);
    check(got.status === 200 && got.json.state === 'running' && got.json.template === 'minimal' &&
      got.json.resolution === '1024x640', `the API has sandbox ${id} running at 1024x640`);

    // The live view: connected, non-blank, and the same pixels as a screenshot.
    check(await until('viewer', async () => (await page.getAttribute('#viewer', 'data-connected')) === 'true', 60000),
      'noVNC connects (view only)');
    // The console panel runs a command: an xterm to type into.
    await page.click('#tab-console');
    await page.fill('#command', 'setsid xterm -geometry 80x10+0+0 </dev/null >/dev/null 2>&1 & ' +
      'timeout 30 xdotool search --sync --onlyvisible --class xterm >/dev/null && echo xterm-up; uname -s');
    await page.click('#command-run');
    check(await until('console', async () => /xterm-up\s+Linux\s+\[exit 0\]/.test(await page.textContent('#command-output')), 60000),
      'the console panel streams a command\'s output and exit status');

    // The live view, with the xterm on it: the same pixels as a screenshot.
    let cmp = { match: 0 };
    await until('match', async () => (cmp = await compareWithApi(page, id)).match > 0.99 && cmp.colours > 2, 60000, 1000);
    check(cmp.match > 0.99 && cmp.colours > 2,
      `the canvas is not blank and matches the API screenshot (${(cmp.match * 100).toFixed(2)}% of pixels, ${cmp.colours} colours) ${cmp.why || ''}`);
    await shot('2-viewer');

    // View only: keys typed into the canvas do nothing.
    const box = await page.locator('#viewer canvas').boundingBox();
    const scale = box.width / 1024;
    await page.mouse.click(box.x + 200 * scale, box.y + 60 * scale);
    await page.keyboard.type('echo view-only > /tmp/view-only.txt\n');
    await sleep(1500);
    const vo = await guest(d, id, 'cat /tmp/view-only.txt 2>/dev/null; true');
    check(vo.stdout === '', 'in view-only mode typing into the canvas reaches nothing');

    // Take over: typing into the canvas reaches the guest.
    await page.click('#take-over');
    check(await until('control', async () => (await page.textContent('#viewer-status')).includes('in control') &&
      (await page.getAttribute('#viewer', 'data-connected')) === 'true', 30000),
    'take over reconnects with control');
    await page.mouse.click(box.x + 200 * scale, box.y + 60 * scale);
    const typed = `typed-in-the-browser ${randomBytes(3).toString('hex')}`;
    await page.keyboard.type(`echo '${typed}' > /tmp/web-typed.txt\n`, { delay: 20 });
    let out = null;
    await until('typed', async () => (out = await guest(d, id, 'cat /tmp/web-typed.txt 2>/dev/null')).stdout === `${typed}\n`, 30000, 500);
    check(out && out.stdout === `${typed}\n`, `text typed into the canvas is in the guest (${JSON.stringify(out && out.stdout)})`);
    await shot('3-typed');

    // Upload through the files panel; the guest has the same bytes.
    await page.click('#tab-files');
    await page.fill('#files-path', '/tmp');
    await page.press('#files-path', 'Enter');
    check(await until('listed /tmp', async () => page.isVisible('#panel-files tr[data-name="web-typed.txt"]'), 15000),
      'the files panel lists /tmp');
    const payload = randomBytes(3 << 20);
    const sum = createHash('sha256').update(payload).digest('hex');
    await page.setInputFiles('#files-upload', { name: 'from-the-page.bin', mimeType: 'application/octet-stream', buffer: payload });
    check(await until('uploaded', async () => (await page.textContent('#notice')).includes('Uploaded /tmp/from-the-page.bin'), 60000),
      `the page says the upload is done (${await page.textContent('#notice')})`);
    check(await until('listed', async () => page.isVisible('#panel-files tr[data-name="from-the-page.bin"]'), 10000),
      'the uploaded file shows in the file list');
    const up = await guest(d, id, 'sha256sum /tmp/from-the-page.bin');
    check(up.stdout.startsWith(sum), 'the file uploaded through the page is in the guest, byte for byte');
    await shot('4-files');

    // Activity: an agent's batch through the API shows in the page.
    await api(d, 'POST', `/sandboxes/${id}/actions`, { actions: [{ type: 'move', x: 700, y: 500 }] });
    await page.click('#tab-activity');
    check(await until('activity', async () => {
      const t = await page.textContent('#activity-rows');
      return t.includes('move x=700 y=500') && t.includes('/tmp/from-the-page.bin') && t.includes('xterm');
    }, 15000), 'the activity shows the API batch, the upload and the command');
    await shot('5-activity');

    // The network tab says what this cubicled gives (it runs with --no-network here).
    await page.click('#tab-network');
    check(await until('network', async () => (await page.textContent('#network-facts')).includes('no network card'), 10000),
      'the network tab says the sandbox has no network card');
    check(!(await page.isVisible('#network-apply')) && !(await page.isVisible('#port-open')),
      'without a network card the tab offers no rules and no ports');

    // Resize from the page: the API's display follows.
    await page.fill('#resize-width', '800');
    await page.fill('#resize-height', '600');
    await page.click('#resize');
    check(await until('resized', async () => {
      const disp = await api(d, 'GET', `/sandboxes/${id}/display`);
      return disp.json.width === 800 && disp.json.height === 600;
    }, 30000), 'resize from the page changes the screen');
    cmp = { match: 0 };
    await until('match', async () => (cmp = await compareWithApi(page, id)).match > 0.99, 30000, 1000);
    check(cmp.match > 0.99, `after the resize the canvas still matches (${(cmp.match * 100).toFixed(2)}%) ${cmp.why || ''}`);

    // Screenshot download from the page is a PNG of the screen.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#screenshot')]);
    const png = readFileSync(await download.path());
    check(png.subarray(1, 4).toString() === 'PNG' && png.readUInt32BE(16) === 800 && png.readUInt32BE(20) === 600,
      'the screenshot button downloads an 800x600 PNG');

    // The list: its card, running, with a live thumbnail of its screen.
    await page.click('text=← Sandboxes');
    const card = `.card[data-id="${id}"]`;
    check(await until('card', async () => (await page.textContent(`${card} .state`)) === 'running' &&
      page.evaluate((sel) => { const i = document.querySelector(`${sel} img`); return !!i && i.complete && i.naturalWidth === 320; }, card),
    20000), 'the list shows it running, with a 320-pixel-wide thumbnail');
    check(/\dm \d+s/.test(await page.textContent(`${card} .left`)), 'the card shows the time left');
    await shot('6-list-with-sandbox');
    await page.click(`${card} .thumb`);
    check(await until('reopened', async () => page.url().endsWith(`#/sandbox/${id}`) &&
      (await page.getAttribute('#viewer', 'data-connected')) === 'true', 30000), 'its thumbnail opens it again');

    // Kill from the page: back to the list, without it.
    await page.click('#kill');
    check(await until('list again', async () => page.url().endsWith('#/') && page.isVisible('#create'), 30000),
      'kill goes back to the list');
    check(await until('gone', async () => (await page.locator(`.card[data-id="${id}"]`).count()) === 0, 15000),
      'the killed sandbox is not in the list');
    check((await api(d, 'GET', `/sandboxes/${id}`)).status === 404, 'the API no longer knows it');
    id = null;
    await shot('7-after-kill');
    check(pageErrors.length === 0, `no script errors in the page ${pageErrors.join('; ')}`);
  } catch (e) {
    check(false, `the run went through: ${e.stack || e}`);
    await shot('failure').catch(() => {});
  } finally {
    await browser.close();
    if (id) await api(d, 'DELETE', `/sandboxes/${id}`).catch(() => {});
    d.proc.kill('SIGTERM');
    const code = await new Promise((r) => d.proc.once('exit', (c, sig) => r(sig ? 128 : c)));
    rmSync(data, { recursive: true, force: true });
    // Under the sanitizers a report makes cubicled exit non-zero or writes it to the log.
    const logText = readFileSync(join(args.out, 'cubicled.log'), 'utf8');
    check(code === 0 && !/AddressSanitizer|LeakSanitizer|runtime error/.test(logText),
      `cubicled stopped cleanly on SIGTERM (status ${code}, no sanitizer report)`);
  }
  console.log(`${passed} passed, ${failedChecks} failed`);
  process.exit(failedChecks ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
