// The sandbox list: a create form, and a card per sandbox with a live
// thumbnail (a small JPEG screenshot, refreshed), its state, age and time left.
import { duration, el, getJSON, postJSON, query, request, sandboxPath } from './api.js';
import { failed, notice } from './ui.js';

const LIST_MS = 2000;
const THUMB_MS = 3000;
const RESOLUTIONS = ['1280x800', '1024x768', '1280x720', '1440x900', '1920x1080', '800x600'];
const LAYOUTS = ['us', 'gb', 'de', 'fr', 'es', 'it', 'ch', 'se', 'no', 'dk', 'pt', 'br', 'jp', 'ru'];

function createForm(onCreated) {
  const template = el('select', { name: 'template', id: 'create-template' },
    el('option', { value: 'desktop' }, 'desktop'), el('option', { value: 'minimal' }, 'minimal'));
  const resolution = el('input', { name: 'resolution', id: 'create-resolution', value: '1280x800',
    list: 'resolutions', size: 10, pattern: '[0-9]{2,4}x[0-9]{2,4}', title: 'WIDTHxHEIGHT' });
  const layout = el('input', { name: 'layout', id: 'create-layout', value: 'us', list: 'layouts', size: 6 });
  const timeout = el('input', { name: 'timeout', id: 'create-timeout', type: 'number', min: 1, value: 300, size: 6 });
  const button = el('button', { class: 'primary', type: 'submit', id: 'create' }, 'Create sandbox');
  const form = el('form', { class: 'create' },
    el('label', {}, 'Template', template),
    el('label', {}, 'Resolution', resolution),
    el('label', {}, 'Keyboard layout', layout),
    el('label', {}, 'Timeout (s)', timeout),
    button,
    el('datalist', { id: 'resolutions' }, RESOLUTIONS.map((r) => el('option', { value: r }))),
    el('datalist', { id: 'layouts' }, LAYOUTS.map((l) => el('option', { value: l }))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    button.textContent = 'Creating… (the desktop boots)';
    notice('');
    try {
      const sb = await postJSON('/sandboxes', {
        template: template.value, resolution: resolution.value.trim(),
        keyboard_layout: layout.value.trim(), timeout: Number(timeout.value),
      });
      onCreated(sb);
    } catch (e) {
      failed(e);
    } finally {
      button.disabled = false;
      button.textContent = 'Create sandbox';
    }
  });
  return form;
}

// One card, updated in place so thumbnails do not flicker.
function makeCard(id, onKill) {
  const img = el('img', { alt: `screen of ${id}` });
  const thumb = el('div', { class: 'thumb', title: 'Open' }, 'no picture yet');
  thumb.addEventListener('click', () => { location.hash = `#/sandbox/${id}`; });
  const fields = {};
  const info = el('div', { class: 'info' });
  for (const f of ['id', 'state', 'template', 'resolution', 'age', 'left']) {
    fields[f] = el('span', { class: f === 'id' ? 'mono id' : f });
    info.append(el('span', { class: 'muted' }, f === 'left' ? 'time left' : f), fields[f]);
  }
  const open = el('a', { href: `#/sandbox/${id}` }, el('button', { type: 'button' }, 'Open'));
  const kill = el('button', { class: 'danger', type: 'button', onclick: () => onKill(id) }, 'Kill');
  const card = el('div', { class: 'card', 'data-id': id }, thumb, info, el('div', { class: 'actions' }, open, kill));
  return { card, thumb, img, fields, url: null };
}

function fill(c, sb) {
  c.fields.id.textContent = sb.id;
  c.fields.state.textContent = sb.state + (sb.reason ? ` (${sb.reason})` : '');
  c.fields.state.className = `state ${sb.state}`;
  c.fields.template.textContent = sb.template;
  c.fields.resolution.textContent = sb.resolution;
  c.fields.age.textContent = duration((Date.now() - Date.parse(sb.created_at)) / 1000);
  c.fields.left.textContent = sb.timeout_left_s !== undefined ? duration(sb.timeout_left_s) : '—';
  c.running = sb.state === 'running';
}

async function refreshThumb(id, c) {
  const resp = await request('GET', sandboxPath(id, '/screenshot') +
    query({ format: 'jpeg', quality: 70, width: 320 }));
  const url = URL.createObjectURL(await resp.blob());
  if (c.url) URL.revokeObjectURL(c.url);
  c.url = url;
  c.img.src = url;
  if (c.img.parentNode !== c.thumb) c.thumb.replaceChildren(c.img);
}

export function showList(main) {
  const cards = new Map();
  const grid = el('div', { class: 'grid', id: 'sandboxes' });
  const empty = el('div', { class: 'empty' }, 'No sandboxes yet: create one above.');
  const timers = new Set();
  let stopped = false;

  const kill = async (id) => {
    try {
      await request('DELETE', sandboxPath(id));
      notice(`Sandbox ${id} ended.`, 'info');
      await refresh();
    } catch (e) { failed(e); }
  };
  const refresh = async () => {
    const { sandboxes } = await getJSON('/sandboxes');
    if (stopped) return;
    const seen = new Set();
    for (const sb of sandboxes) {
      seen.add(sb.id);
      let c = cards.get(sb.id);
      if (!c) {
        c = makeCard(sb.id, kill);
        cards.set(sb.id, c);
        grid.append(c.card);
      }
      fill(c, sb);
    }
    for (const [id, c] of cards) {
      if (seen.has(id)) continue;
      if (c.url) URL.revokeObjectURL(c.url);
      c.card.remove();
      cards.delete(id);
    }
    empty.hidden = cards.size > 0;
  };
  const thumbs = async () => {
    for (const [id, c] of cards) {
      if (stopped) return;
      if (c.running) await refreshThumb(id, c).catch(() => { /* it may have just ended */ });
    }
  };
  // Runs fn now and every ms after it finishes, until the view is left.
  const every = (fn, ms) => {
    const tick = async () => {
      try { await fn(); } catch (e) { failed(e); }
      if (stopped) return;
      const t = setTimeout(() => { timers.delete(t); tick(); }, ms);
      timers.add(t);
    };
    tick();
  };

  main.replaceChildren(
    createForm((sb) => { location.hash = `#/sandbox/${sb.id}`; }),
    empty, grid);
  every(refresh, LIST_MS);
  every(thumbs, THUMB_MS);
  return () => {
    stopped = true;
    timers.forEach(clearTimeout);
    for (const c of cards.values()) if (c.url) URL.revokeObjectURL(c.url);
  };
}
