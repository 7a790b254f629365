// The API as the console uses it: the key (kept in this browser's storage),
// JSON requests, and errors as exceptions carrying the server's code.

const KEY = 'cubicle.api-key';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function key() {
  return localStorage.getItem(KEY) || '';
}

export function setKey(k) {
  if (k) localStorage.setItem(KEY, k);
  else localStorage.removeItem(KEY);
}

// fetch with the key; throws ApiError for an error answer or no answer.
export async function request(method, path, { json, body, signal, headers = {} } = {}) {
  const h = { Authorization: `Bearer ${key()}`, ...headers };
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers: h, body, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'unreachable', `cubicled does not answer (${e.message})`);
  }
  if (!resp.ok) {
    let code = 'error', message = `${resp.status} ${resp.statusText}`;
    try {
      const e = await resp.json();
      code = e.code || code;
      message = e.message || message;
    } catch { /* not JSON: keep the status */ }
    throw new ApiError(resp.status, code, message);
  }
  return resp;
}

export async function getJSON(path, opts) {
  return (await request('GET', path, opts)).json();
}

export async function postJSON(path, json) {
  const resp = await request('POST', path, { json });
  return resp.status === 204 ? null : resp.json();
}

export function sandboxPath(id, rest = '') {
  return `/sandboxes/${encodeURIComponent(id)}${rest}`;
}

// A query string from an object, leaving out undefined values.
export function query(args) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(args)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Saves a Blob as a file through a temporary link.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// "3m 20s", "2h 5m": a short human duration.
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

// An element with attributes and children, for building the page without HTML strings.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}
