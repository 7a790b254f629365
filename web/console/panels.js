// The side panels of a sandbox: a command console with streamed output, a
// file browser with upload and download, and the activity: what was done
// to the sandbox through the API, newest first.
import { el, getJSON, query, request, sandboxPath, saveBlob } from './api.js';
import { failed, notice } from './ui.js';

const ACTIVITY_MS = 2000;

export function commandPanel(id) {
  const out = el('pre', { class: 'output', id: 'command-output' });
  const input = el('input', { id: 'command', placeholder: 'a shell command, e.g. ls -la ~', autocomplete: 'off' });
  const user = el('input', { id: 'command-user', value: 'user', size: 6, title: 'run as this user' });
  const run = el('button', { type: 'submit', class: 'primary', id: 'command-run' }, 'Run');
  const stop = el('button', { type: 'button', id: 'command-stop', disabled: true }, 'Stop');
  const form = el('form', { class: 'row' }, input, user, run, stop);
  let aborter = null;

  const write = (text, cls) => {
    const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    out.append(cls ? el('span', { class: cls }, text) : text);
    if (atEnd) out.scrollTop = out.scrollHeight;
  };
  const event = (ev) => {
    if (ev.type === 'stdout' || ev.type === 'stderr') write(ev.data, ev.type === 'stderr' ? 'stderr' : null);
    else if (ev.type === 'exit')
      write(`[${ev.timed_out ? 'timed out' : ev.signal ? `signal ${ev.signal}` : `exit ${ev.exit_code}`}]\n`, 'exit');
    else if (ev.type === 'error') write(`[error: ${ev.message}]\n`, 'stderr');
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const cmd = input.value;
    if (!cmd.trim() || aborter) return;
    write(`$ ${cmd}\n`, 'exit');
    aborter = new AbortController();
    run.disabled = true;
    stop.disabled = false;
    try {
      const resp = await request('POST', sandboxPath(id, '/commands'), {
        json: { cmd, user: user.value || undefined, stream: 'ndjson' }, signal: aborter.signal,
      });
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line) event(JSON.parse(line));
        }
      }
    } catch (e) {
      if (e.name === 'AbortError') write('[stopped watching]\n', 'exit');
      else write(`[${e.message}]\n`, 'stderr');
    } finally {
      aborter = null;
      run.disabled = false;
      stop.disabled = true;
    }
  });
  stop.addEventListener('click', () => aborter && aborter.abort());
  const node = el('div', { class: 'panel', id: 'panel-console' }, form, out);
  return { name: 'Console', node, shown: () => input.focus(), close: () => aborter && aborter.abort() };
}

function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(1)} GiB`;
}

function parentOf(path) {
  const p = path.replace(/\/+$/, '').replace(/\/[^/]*$/, '');
  return p || '/';
}

function joinPath(dir, name) {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

export function filesPanel(id) {
  const path = el('input', { id: 'files-path', value: '/home/user', class: 'mono' });
  const up = el('button', { type: 'button', title: 'the folder above' }, '↑');
  const go = el('button', { type: 'submit' }, 'Go');
  const upload = el('input', { type: 'file', id: 'files-upload', multiple: true, hidden: true });
  const uploadButton = el('button', { type: 'button', id: 'files-upload-button' }, 'Upload…');
  const body = el('tbody');
  const list = el('div', { class: 'files' }, el('table', {}, body));
  const form = el('form', { class: 'row' }, up, path, go);
  let dir = path.value, asked = 0;

  // Lists a folder; of loads that overlap, the last one asked for wins, and
  // the path box shows it unless someone typed in it meanwhile.
  const load = async (to) => {
    const mine = ++asked, typed = path.value;
    try {
      const { entries } = await getJSON(sandboxPath(id, '/files/list') + query({ path: to }));
      if (mine !== asked) return;
      dir = to;
      if (path.value === typed) path.value = to;
      entries.sort((a, b) => (b.type === 'dir') - (a.type === 'dir') || a.name.localeCompare(b.name));
      body.replaceChildren(...entries.map((e) => row(e)));
    } catch (e) { failed(e); }
  };
  const row = (e) => {
    const name = el('td', { class: `name ${e.type}` }, e.type === 'dir' ? `${e.name}/` : e.name);
    if (e.type === 'dir') name.addEventListener('click', () => load(e.path));
    const get = e.type === 'file' && el('button', { type: 'button', title: 'download', onclick: async () => {
      try {
        const resp = await request('GET', sandboxPath(id, '/files') + query({ path: e.path }));
        saveBlob(await resp.blob(), e.name);
      } catch (err) { failed(err); }
    } }, '↓');
    const del = el('button', { type: 'button', title: 'delete', onclick: async () => {
      if (!confirm(`Delete ${e.path}${e.type === 'dir' ? ' and all it holds' : ''}?`)) return;
      try {
        await request('DELETE', sandboxPath(id, '/files') + query({ path: e.path, recursive: e.type === 'dir' ? 'true' : undefined }));
        await load(dir);
      } catch (err) { failed(err); }
    } }, '✕');
    return el('tr', { 'data-name': e.name }, name, el('td', { class: 'size' }, e.type === 'file' ? size(e.size) : ''),
      el('td', {}, get || '', del));
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(path.value.trim() || '/'); });
  up.addEventListener('click', () => load(parentOf(dir)));
  uploadButton.addEventListener('click', () => upload.click());
  upload.addEventListener('change', async () => {
    for (const f of upload.files) {
      const to = joinPath(dir, f.name);
      try {
        notice(`Uploading ${f.name} (${size(f.size)})…`, 'info');
        await request('PUT', sandboxPath(id, '/files') + query({ path: to }), { body: f });
        notice(`Uploaded ${to}.`, 'info');
      } catch (e) { failed(e); }
    }
    upload.value = '';
    await load(dir);
  });
  const node = el('div', { class: 'panel', id: 'panel-files' }, form,
    el('div', { class: 'row' }, uploadButton, upload), list);
  return { name: 'Files', node, shown: () => load(dir), close: () => {} };
}

export function activityPanel(id) {
  const body = el('tbody', { id: 'activity-rows' });
  const node = el('div', { class: 'panel', id: 'panel-activity' },
    el('div', { class: 'muted' }, 'What was done to this sandbox through the API (actions, tool calls, commands, files), newest first.'),
    el('div', { class: 'activity' }, el('table', {}, body)));
  let last = 0, timer = null, stopped = false;

  const poll = async () => {
    try {
      const a = await getJSON(sandboxPath(id, '/activity') + query({ after: last }));
      for (const e of a.entries) {
        const t = new Date(e.time);
        const failedRow = e.status >= 400;
        body.prepend(el('tr', { class: failedRow ? 'failed' : '', title: e.error || `${e.status}, ${e.ms} ms` },
          el('td', { class: 'time' }, t.toLocaleTimeString()),
          el('td', { class: 'what' }, e.what),
          el('td', { class: 'summary' }, failedRow ? `${e.summary} — ${e.error || e.status}` : e.summary)));
      }
      last = a.last;
    } catch (e) { failed(e); }
    if (!stopped) timer = setTimeout(poll, ACTIVITY_MS);
  };
  poll();
  return { name: 'Activity', node, shown: () => {}, close: () => { stopped = true; clearTimeout(timer); } };
}

// The sandbox's network: its address, its egress rules (replaced whole on
// Apply), and a way to open a server the guest runs on one of its ports.
export function networkPanel(id) {
  const facts = el('div', { class: 'muted', id: 'network-facts' }, 'loading…');
  const internet = el('input', { type: 'checkbox', id: 'network-internet' });
  const allow = el('input', { id: 'network-allow', class: 'mono', placeholder: 'e.g. 203.0.113.0/24, 198.51.100.7' });
  const deny = el('input', { id: 'network-deny', class: 'mono', placeholder: 'e.g. 0.0.0.0/0' });
  const apply = el('button', { type: 'submit', class: 'primary', id: 'network-apply' }, 'Apply');
  const rules = el('form', { class: 'rules' },
    el('label', {}, internet, ' internet'),
    el('label', {}, 'allow out', allow),
    el('label', {}, 'deny out', deny), apply);
  const port = el('input', { id: 'port-number', type: 'number', min: 1, max: 65535, placeholder: '3000', class: 'size' });
  const open = el('button', { type: 'submit', id: 'port-open' }, 'Open');
  const opener = el('form', { class: 'row' }, el('span', {}, 'A server on port'), port, open);
  const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const show = (n) => {
    if (!n.enabled) {
      facts.textContent = 'This sandbox has no network card (cubicled runs with --no-network).';
      rules.hidden = opener.hidden = true;
      return;
    }
    facts.textContent = `${n.address} · host name ${n.hostname} · the host, other sandboxes and private ranges are always denied`;
    internet.checked = n.internet;
    allow.value = n.allow_out.join(', ');
    deny.value = n.deny_out.join(', ');
  };
  const load = async () => {
    try { show(await getJSON(sandboxPath(id, '/network'))); } catch (e) { failed(e); }
  };
  rules.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = { internet: internet.checked, allow_out: list(allow.value), deny_out: list(deny.value) };
      if (!body.internet) delete body.allow_out;
      const resp = await request('PUT', sandboxPath(id, '/network'), { json: body });
      show(await resp.json());
      notice('The new rules apply (open connections they forbid were cut).', 'info');
    } catch (e) { failed(e); }
  });
  opener.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const p = await getJSON(sandboxPath(id, `/ports/${Number(port.value)}`));
      window.open(`${p.url}?cubicle_token=${encodeURIComponent(p.token)}`, '_blank', 'noopener');
    } catch (e) { failed(e); }
  });
  const node = el('div', { class: 'panel', id: 'panel-network' }, facts, rules, opener);
  return { name: 'Network', node, shown: load, close: () => {} };
}
