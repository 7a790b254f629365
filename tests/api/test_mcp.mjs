// vm_mcp: cubicled's MCP server driven by the real MCP client from npm
// (@modelcontextprotocol/sdk, pinned in web/package.json), over both
// transports: stdio through `cubicle mcp`, and Streamable HTTP to /mcp with
// the API key. Lists the tools; creates a real `minimal` sandbox through a
// tool; takes a screenshot (image content, a PNG of the screen's size);
// types into an xterm whose cat writes a guest file, and reads that file
// back through the tools; writes and reads a file; runs a command; lists
// sandboxes over HTTP; and checks the refusals each transport's client
// meets: a tool on an unknown sandbox (isError), an unknown tool (a JSON-RPC
// error), no API key (401), GET (405, which the client tolerates).
//
//   node test_mcp.mjs --cubicled PATH --cli PATH --guest-dir DIR --web-dir DIR
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { check, finish, modulesOf, parseArgs, raises, sleep, startCubicled, stopCubicled }
  from './harness.mjs';

const args = parseArgs(process.argv, ['cubicled', 'cli', 'guest-dir', 'web-dir'], 'test_mcp');
const modules = modulesOf(args['web-dir']);
const sdk = (p) => import(join(modules, '@modelcontextprotocol/sdk/dist/esm', p));
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');

// A PNG's size from its IHDR.
function pngSize(b64) {
  const b = Buffer.from(b64, 'base64');
  if (b.length < 24 || b.toString('latin1', 1, 4) !== 'PNG') return null;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}
const textOf = (res) => res.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

async function main() {
  const data = mkdtempSync(join(tmpdir(), 'cubicle-mcp-'));
  const d = await startCubicled(args.cubicled, data, args['guest-dir']);
  let stdio, http, sandbox;
  try {
    // stdio: cubicle mcp, started as MCP clients start servers.
    stdio = new Client({ name: 'cubicle-test', version: '1.0.0' });
    await stdio.connect(new StdioClientTransport({
      command: args.cli, args: ['mcp'],
      env: { CUBICLE_URL: d.url, CUBICLE_API_KEY: d.key, PATH: process.env.PATH },
      stderr: 'inherit',
    }));
    check(stdio.getServerVersion()?.name === 'cubicle', 'stdio: initialized with cubicle');
    const { tools } = await stdio.listTools();
    const names = tools.map((t) => t.name);
    for (const n of ['create_sandbox', 'list_sandboxes', 'kill_sandbox', 'screenshot', 'click',
      'move', 'drag', 'scroll', 'type', 'key', 'actions', 'run_command', 'read_file',
      'write_file', 'list_files'])
      check(names.includes(n), `stdio: tool ${n} listed`);
    check(tools.every((t) => t.inputSchema?.type === 'object'), 'every tool has an object schema');

    const made = await stdio.callTool({ name: 'create_sandbox',
      arguments: { template: 'minimal', resolution: '1024x768', timeout: 1800 } });
    sandbox = JSON.parse(textOf(made)).id;
    check(!made.isError && /^[0-9a-f]{16}$/.test(sandbox), `stdio: create_sandbox made ${sandbox}`);

    const shot = await stdio.callTool({ name: 'screenshot', arguments: { sandbox } });
    const img = shot.content.find((c) => c.type === 'image');
    const size = img && pngSize(img.data);
    check(img?.mimeType === 'image/png' && size?.width === 1024 && size?.height === 768,
      `stdio: screenshot is a 1024x768 PNG (${JSON.stringify(size)})`);
    const half = await stdio.callTool({ name: 'screenshot', arguments: { sandbox, width: 512 } });
    check(pngSize(half.content.find((c) => c.type === 'image').data)?.width === 512,
      'stdio: screenshot downscaled to width 512');

    // An xterm whose cat writes what it is typed into a guest file.
    const opened = await stdio.callTool({ name: 'run_command', arguments: { sandbox,
      cmd: "setsid xterm -T reader -geometry 60x8+40+40 -e sh -c 'stty -icanon -echo; " +
        "exec cat > /tmp/mcp-typed' </dev/null >/dev/null 2>&1 & timeout 60 xdotool search " +
        "--sync --onlyvisible --name '^reader$' | head -n 1" } });
    check(/exit_code: 0/.test(textOf(opened)), 'stdio: run_command opened a reader xterm');
    const clicked = await stdio.callTool({ name: 'click', arguments: { sandbox, x: 200, y: 80 } });
    check(!clicked.isError && clicked.content.some((c) => c.type === 'image'),
      'stdio: click answers the screen after it');
    await stdio.callTool({ name: 'type', arguments: { sandbox, text: 'mcp typed ü', screenshot: false } });
    const key = await stdio.callTool({ name: 'key', arguments: { sandbox, keys: 'Return' } });
    check(!key.isError, 'stdio: key Return');
    let typed = '';
    for (let i = 0; i < 30 && !typed.includes('mcp typed ü\n'); i++) {
      typed = textOf(await stdio.callTool({ name: 'read_file', arguments: { sandbox, path: '/tmp/mcp-typed' } }));
      if (!typed.includes('\n')) await sleep(500);
    }
    check(typed === 'mcp typed ü\n', `stdio: the guest was typed exactly (${JSON.stringify(typed)})`);
    const batch = await stdio.callTool({ name: 'actions', arguments: { sandbox,
      actions: [{ type: 'move', x: 10, y: 10 }, { type: 'cursor' }], screenshot: false } });
    check(JSON.parse(textOf(batch))[1]?.x === 10, 'stdio: actions batch, the cursor read back');

    // HTTP: the same server at /mcp, the key in a header.
    http = new Client({ name: 'cubicle-test-http', version: '1.0.0' });
    await http.connect(new StreamableHTTPClientTransport(new URL(d.url + '/mcp'), {
      requestInit: { headers: { Authorization: `Bearer ${d.key}` } },
    }));
    check((await http.listTools()).tools.length === tools.length, 'http: the same tools');
    const listed = await http.callTool({ name: 'list_sandboxes', arguments: {} });
    check(textOf(listed).includes(sandbox), 'http: list_sandboxes holds the sandbox');
    const wrote = await http.callTool({ name: 'write_file', arguments: { sandbox,
      path: '/tmp/mcp-note.txt', content: 'written over MCP\n' } });
    check(!wrote.isError, 'http: write_file');
    const read = await http.callTool({ name: 'read_file', arguments: { sandbox, path: '/tmp/mcp-note.txt' } });
    check(textOf(read) === 'written over MCP\n', 'http: read_file reads it back');
    const ls = await http.callTool({ name: 'list_files', arguments: { sandbox, path: '/tmp' } });
    check(textOf(ls).includes('mcp-note.txt'), 'http: list_files');
    const ran = await http.callTool({ name: 'run_command', arguments: { sandbox, cmd: 'echo $((6*7)); exit 3' } });
    check(/exit_code: 3/.test(textOf(ran)) && /42/.test(textOf(ran)), 'http: run_command exit code and output');

    // Refusals, each as its transport's client meets it.
    const none = await http.callTool({ name: 'screenshot', arguments: { sandbox: 'feedfacefeedface' } });
    check(none.isError === true && /sandbox_not_found/.test(textOf(none)), 'http: unknown sandbox is isError');
    const missing = await stdio.callTool({ name: 'type', arguments: { sandbox } });
    check(missing.isError === true, 'stdio: a bad action is isError');
    let rpc = null;
    try {
      await http.callTool({ name: 'teleport', arguments: {} });
    } catch (e) {
      rpc = e;
    }
    check(rpc?.code === -32602, `http: an unknown tool is JSON-RPC -32602 (${rpc?.code})`);
    const noKey = await fetch(d.url + '/mcp', { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' } });
    check(noKey.status === 401, 'http: no API key is 401');
    const get = await fetch(d.url + '/mcp', { headers: { Authorization: `Bearer ${d.key}` } });
    check(get.status === 405, 'http: GET is 405');
    const foreign = await fetch(d.url + '/mcp', { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      headers: { Authorization: `Bearer ${d.key}`, 'Content-Type': 'application/json', Origin: 'http://evil.test' } });
    check(foreign.status === 403, 'http: a foreign Origin is 403');
    await stdio.ping();
    check(true, 'stdio: ping');

    const killed = await http.callTool({ name: 'kill_sandbox', arguments: { sandbox } });
    check(!killed.isError, 'http: kill_sandbox');
    sandbox = null;
  } finally {
    await stdio?.close().catch(() => {});
    await http?.close().catch(() => {});
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
