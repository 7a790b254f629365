// One sandbox: its live desktop through noVNC (watch, or take over), its
// controls, and the side panels (commands, files, activity).
import RFB from '/novnc/core/rfb.js';
import { duration, el, getJSON, postJSON, query, request, sandboxPath, saveBlob } from './api.js';
import { activityPanel, commandPanel, filesPanel, networkPanel } from './panels.js';
import { failed, notice } from './ui.js';

const INFO_MS = 2000;
const RECONNECT_MS = 2000;

// The noVNC connection, made again when the mode changes or it drops.
class Viewer {
  constructor(id, target, status) {
    this.id = id;
    this.target = target;
    this.status = status;
    this.viewOnly = true;
    this.fit = true;
    this.rfb = null;
    this.closed = false;
    this.retry = null;
    this.gen = 0;
  }

  async connect() {
    const gen = ++this.gen;     // only the latest call may make a connection
    clearTimeout(this.retry);
    if (this.rfb) {
      const old = this.rfb;
      this.rfb = null;
      old.disconnect();
    }
    this.status.textContent = 'connecting…';
    let info;
    try {
      info = await getJSON(sandboxPath(this.id, '/stream') + query({ view_only: this.viewOnly ? 'true' : undefined }));
    } catch (e) {
      if (gen !== this.gen) return;
      this.status.textContent = `no stream: ${e.message}`;
      this.later();
      return;
    }
    if (this.closed || gen !== this.gen) return;
    // Through cubicled's own port (a ticket for this one connection), so the
    // page works wherever cubicled is reachable.
    const ws = info.websocket_path ?
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${info.websocket_path}` :
      info.websocket_url;
    const rfb = new RFB(this.target, ws, { credentials: { password: info.vnc.password } });
    rfb.viewOnly = this.viewOnly;
    rfb.scaleViewport = this.fit;
    rfb.clipViewport = false;
    rfb.resizeSession = false;
    // Tight's JPEG at its best (noVNC asks for 6 by default): text and
    // thin lines come through as the guest drew them.
    rfb.qualityLevel = 9;
    rfb.focusOnClick = true;
    rfb.addEventListener('connect', () => {
      this.status.textContent = this.viewOnly ? 'watching (view only)' : 'in control: keyboard and mouse go to the sandbox';
      this.target.dataset.connected = 'true';
    });
    rfb.addEventListener('disconnect', () => {
      if (this.rfb !== rfb) return;
      this.target.dataset.connected = 'false';
      this.status.textContent = 'disconnected; reconnecting…';
      this.later();
    });
    rfb.addEventListener('securityfailure', (ev) => {
      this.status.textContent = `refused: ${ev.detail.reason || 'bad password'}`;
    });
    this.rfb = rfb;
  }

  later() {
    if (!this.closed) this.retry = setTimeout(() => this.connect(), RECONNECT_MS);
  }

  setViewOnly(v) {
    this.viewOnly = v;
    this.connect();     // the server enforces it: a view-only password moves nothing
  }

  setFit(v) {
    this.fit = v;
    if (this.rfb) this.rfb.scaleViewport = v;
  }

  close() {
    this.closed = true;
    clearTimeout(this.retry);
    if (this.rfb) this.rfb.disconnect();
    this.rfb = null;
  }
}

// A button that is on or off; labels[0] shows when off, labels[1] when on.
function toggle(labels, on, onChange, id) {
  const b = el('button', { type: 'button', id, 'aria-pressed': String(on), class: on ? 'on' : '' }, labels[on ? 1 : 0]);
  b.addEventListener('click', () => {
    const now = b.getAttribute('aria-pressed') !== 'true';
    b.setAttribute('aria-pressed', String(now));
    b.className = now ? 'on' : '';
    b.textContent = labels[now ? 1 : 0];
    onChange(now);
  });
  return b;
}

function toolbar(id, viewer, info, leaveTo) {
  const width = el('input', { class: 'size', id: 'resize-width', type: 'number', min: 64, max: 8192, title: 'width' });
  const height = el('input', { class: 'size', id: 'resize-height', type: 'number', min: 64, max: 8192, title: 'height' });
  const act = (fn) => async () => { try { await fn(); } catch (e) { failed(e); } };
  const bar = el('div', { class: 'toolbar' },
    el('a', { href: '#/' }, el('button', { type: 'button' }, '← Sandboxes')),
    info,
    el('span', { class: 'sep' }),
    toggle(['Take over', 'Give back (watch only)'], false, (on) => viewer.setViewOnly(!on), 'take-over'),
    toggle(['Fit to window', 'Fit to window'], true, (on) => viewer.setFit(on), 'fit'),
    el('span', { class: 'sep' }),
    width, el('span', {}, '×'), height,
    el('button', { type: 'button', id: 'resize', onclick: act(async () => {
      const d = await postJSON(sandboxPath(id, '/display'), { width: Number(width.value), height: Number(height.value) });
      notice(`The screen is now ${d.width}×${d.height}.`, 'info');
    }) }, 'Resize'),
    el('span', { class: 'sep' }),
    el('button', { type: 'button', id: 'screenshot', onclick: act(async () => {
      const resp = await request('GET', sandboxPath(id, '/screenshot') + query({ format: 'png' }));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      saveBlob(await resp.blob(), `cubicle-${id}-${stamp}.png`);
    }) }, 'Screenshot'),
    el('button', { type: 'button', id: 'extend', onclick: act(async () => {
      const sb = await getJSON(sandboxPath(id));
      await postJSON(sandboxPath(id, '/timeout'), { timeout: (sb.timeout_left_s || 0) + 300 });
    }) }, '+5 min'),
    el('button', { type: 'button', class: 'danger', id: 'kill', onclick: act(async () => {
      if (!confirm(`End sandbox ${id}? Its disk goes with it.`)) return;
      await request('DELETE', sandboxPath(id));
      notice(`Sandbox ${id} ended.`, 'info');
      leaveTo();
    }) }, 'Kill'));
  return { bar, width, height };
}

export function showSandbox(main, id) {
  const status = el('div', { class: 'status', id: 'viewer-status' }, 'connecting…');
  const target = el('div', { id: 'viewer', class: 'viewer' });
  const screen = el('div', { class: 'screen' }, status, target);
  const info = el('span', { class: 'muted', id: 'sandbox-info' });
  const viewer = new Viewer(id, target, status);
  const { bar, width, height } = toolbar(id, viewer, info, () => { location.hash = '#/'; });
  const panels = [commandPanel(id), filesPanel(id), activityPanel(id), networkPanel(id)];
  const tabs = el('div', { class: 'tabs' });
  const side = el('div', { class: 'side' }, tabs, panels.map((p) => p.node));
  let stopped = false, timer = null, sized = false;

  panels.forEach((p, i) => {
    const b = el('button', { type: 'button', id: `tab-${p.name.toLowerCase()}` }, p.name);
    b.addEventListener('click', () => {
      panels.forEach((q, j) => { q.node.hidden = i !== j; tabs.children[j].className = i === j ? 'on' : ''; });
      p.shown();
    });
    tabs.append(b);
  });
  tabs.children[0].click();
  document.getElementById('where').textContent = id;
  main.replaceChildren(bar, el('div', { class: 'sandbox' }, screen, side));

  const refresh = async () => {
    try {
      const sb = await getJSON(sandboxPath(id));
      info.textContent = `${sb.state} · ${sb.template} · ${sb.resolution} · ` +
        (sb.timeout_left_s !== undefined ? `${duration(sb.timeout_left_s)} left` : (sb.reason || ''));
      if (!sized) {
        [width.value, height.value] = sb.resolution.split('x');
        sized = true;
      }
      if (sb.state === 'dead') viewer.close();
    } catch (e) {
      failed(e);
      if (e.code === 'sandbox_not_found') { location.hash = '#/'; return; }
    }
    if (!stopped) timer = setTimeout(refresh, INFO_MS);
  };
  refresh();
  viewer.connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    viewer.close();
    panels.forEach((p) => p.close());
  };
}
