// vm_e2b: E2B's control plane under /e2b and envd under /e2b/envd, driven by the real `e2b` SDK from
// npm (pinned in web/package.json), unmodified, with E2B_API_URL pointing at
// cubicled: Sandbox.create of `base` (our minimal) with metadata, envs and a
// timeout; list with a metadata filter, a page at a time; getInfo;
// setTimeout; connect; commands.run (env, cwd, user, output as it comes, a
// non-zero exit); the file tree (makeDir, exists, list, rename, getInfo,
// remove); isRunning; and the errors as the SDK turns them into its own
// (an unknown sandbox's getInfo and connect raise its not-found error, kill
// answers false, pause is refused, a wrong key raises AuthenticationError).
//
//   node test_e2b.mjs --cubicled PATH --guest-dir DIR --web-dir DIR
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { check, finish, modulesOf, parseArgs, raises, sleep, startCubicled, stopCubicled }
  from './harness.mjs';

const args = parseArgs(process.argv, ['cubicled', 'guest-dir', 'web-dir'], 'test_e2b');
const modules = modulesOf(args['web-dir']);
const e2b = await import(join(modules, 'e2b/dist/index.mjs'));
const { Sandbox } = e2b;

async function main() {
  const data = mkdtempSync(join(tmpdir(), 'cubicle-e2b-'));
  const d = await startCubicled(args.cubicled, data, args['guest-dir']);
  // The two settings a user of E2B changes (and the key): nothing else.
  const opts = { apiUrl: `${d.url}/e2b`, sandboxUrl: `${d.url}/e2b/envd`, apiKey: d.key };
  const made = [];
  try {
    const sbx = await Sandbox.create('base', { ...opts, timeoutMs: 600_000,
      metadata: { suite: 'vm_e2b', who: 'ada & bob=1' }, envs: { GREETING: 'hi' } });
    made.push(sbx.sandboxId);
    check(/^[0-9a-f]{16}$/.test(sbx.sandboxId), `Sandbox.create made ${sbx.sandboxId}`);
    const other = await Sandbox.create('base', { ...opts, timeoutMs: 600_000, metadata: { suite: 'other' } });
    made.push(other.sandboxId);

    const info = await sbx.getInfo();
    check(info.sandboxId === sbx.sandboxId && info.templateId === 'base' && info.state === 'running',
      `getInfo: ${info.templateId}, ${info.state}`);
    check(info.metadata?.who === 'ada & bob=1', 'getInfo: the metadata as given');
    check(info.cpuCount >= 1 && info.memoryMB >= 256, `getInfo: ${info.cpuCount} vCPU, ${info.memoryMB} MB`);
    const left = info.endAt.getTime() - Date.now();
    check(left > 500_000 && left <= 600_000, `getInfo: ends in ${Math.round(left / 1000)} s`);

    await sbx.setTimeout(120_000);
    const after = await sbx.getInfo();
    const left2 = after.endAt.getTime() - Date.now();
    check(left2 > 60_000 && left2 <= 120_000, `setTimeout: now ends in ${Math.round(left2 / 1000)} s`);

    // A metadata filter, encoded as the SDK encodes it, finds only the one.
    const page = Sandbox.list({ ...opts, query: { metadata: { who: 'ada & bob=1' } } });
    const found = await page.nextItems();
    check(found.length === 1 && found[0].sandboxId === sbx.sandboxId, 'list: the metadata filter');
    // One a page: two pages, X-Next-Token between them, then none.
    const paged = Sandbox.list({ ...opts, limit: 1 });
    const first = await paged.nextItems();
    check(first.length === 1 && paged.hasNext, 'list: a page of one, and more');
    const second = await paged.nextItems();
    check(second.length === 1 && second[0].sandboxId !== first[0].sandboxId && !paged.hasNext,
      'list: the second page, and no more');

    // envd: commands and the file tree, through E2B_SANDBOX_URL with the sandbox's token.
    const ran = await sbx.commands.run('echo "$GREETING from $(pwd)"; echo oops >&2', { cwd: '/tmp' });
    check(ran.exitCode === 0 && ran.stdout === 'hi from /tmp\n' && ran.stderr === 'oops\n',
      `commands.run: the sandbox's env, cwd, stdout and stderr (${JSON.stringify(ran.stdout)})`);
    const failedRun = await raises(() => sbx.commands.run('echo partial; exit 3'));
    check(failedRun?.name === 'CommandExitError' && failedRun.exitCode === 3 &&
      failedRun.stdout === 'partial\n', `a non-zero exit raises CommandExitError (${failedRun?.name})`);
    const envs = await sbx.commands.run('echo $A-$GREETING', { envs: { A: 'x', GREETING: 'own' } });
    check(envs.stdout === 'x-own\n', 'commands.run: its envs over the sandbox\'s');
    const root = await sbx.commands.run('id -un', { user: 'root' });
    check(root.stdout === 'root\n', `commands.run as root (${JSON.stringify(root.stdout)})`);
    const chunks = [];
    await sbx.commands.run('for i in 1 2 3; do echo $i; sleep 0.2; done', { onStdout: (d) => chunks.push(d) });
    check(chunks.join('') === '1\n2\n3\n' && chunks.length >= 2, `onStdout as it comes (${chunks.length} chunks)`);
    check(await sbx.files.makeDir('/tmp/e2b-dir/sub') === true, 'files.makeDir');
    check(await sbx.files.makeDir('/tmp/e2b-dir/sub') === false, 'files.makeDir of an existing folder is false');
    check(await sbx.files.exists('/tmp/e2b-dir/sub') && !(await sbx.files.exists('/tmp/e2b-none')),
      'files.exists');
    const listed = await sbx.files.list('/tmp/e2b-dir');
    check(listed.length === 1 && listed[0].name === 'sub' && listed[0].type === 'dir', 'files.list');
    const moved = await sbx.files.rename('/tmp/e2b-dir/sub', '/tmp/e2b-dir/moved');
    check(moved.path === '/tmp/e2b-dir/moved' && moved.type === 'dir', 'files.rename');
    await sbx.commands.run('printf abc > /tmp/e2b-file; chmod 640 /tmp/e2b-file');
    const fi = await sbx.files.getInfo('/tmp/e2b-file');
    check(fi.type === 'file' && fi.size === 3 && fi.owner === 'user' && fi.permissions === '-rw-r-----' &&
      fi.mode === 0o640, `files.getInfo (${fi.size} bytes, ${fi.permissions}, ${fi.owner})`);
    await sbx.files.remove('/tmp/e2b-dir');
    check(!(await sbx.files.exists('/tmp/e2b-dir')), 'files.remove');
    const noFile = await raises(() => sbx.files.remove("/tmp/e2b-dir"));
    check(noFile?.name === "FileNotFoundError", `removing what is not there: ${noFile?.name}`);
    check(await sbx.isRunning() === true, 'isRunning (envd /health)');
    const stranger = await raises(() => Sandbox.connect(other.sandboxId, opts).then((o) => {
      o.envdAccessToken = 'not-the-token';
      return o.commands.run('true');
    }));
    check(stranger !== null, `a wrong access token is refused (${stranger?.name})`);

    const again = await Sandbox.connect(sbx.sandboxId, opts);
    check(again.sandboxId === sbx.sandboxId, 'connect: the running sandbox');

    const ghost = 'feedfacefeedface';
    const notFound = await raises(() => Sandbox.getInfo(ghost, opts));
    check(notFound?.name === 'NotFoundError' || notFound?.name === 'SandboxNotFoundError',
      `getInfo of an unknown id: ${notFound?.name}: ${notFound?.message}`);
    const noConnect = await raises(() => Sandbox.connect(ghost, opts));
    check(/NotFound/.test(noConnect?.name || ''), `connect of an unknown id: ${noConnect?.name}`);
    check(await Sandbox.kill(ghost, opts) === false, 'kill of an unknown id answers false');
    const paused = await raises(() => sbx.pause());
    check(paused && /501/.test(paused.message), `pause is refused plainly: ${paused?.message}`);
    const badKey = await raises(() => Sandbox.list({ ...opts, apiKey: 'cbk_wrong' }).nextItems());
    check(badKey?.name === 'AuthenticationError', `a wrong key: ${badKey?.name}`);
    const badTemplate = await raises(() => Sandbox.create('no-such-template', opts));
    check(badTemplate && /404|template/.test(badTemplate.message), `an unknown template: ${badTemplate?.message}`);

    check(await sbx.kill() === true, 'kill');
    made.shift();
    const gone = await raises(() => Sandbox.getInfo(sbx.sandboxId, opts));
    check(/NotFound/.test(gone?.name || ''), 'getInfo after kill: not found');
  } finally {
    for (const id of made) await Sandbox.kill(id, opts).catch(() => {});
    await stopCubicled(d);
    rmSync(data, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  check(false, `no exception (${e.stack || e})`);
}
finish();
