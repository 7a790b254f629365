// What every view shares: the notice line and how background errors are shown.
import { ApiError, setKey } from './api.js';

export function notice(text, kind = 'error') {
  const n = document.getElementById('notice');
  n.textContent = text;
  n.className = kind;
  n.hidden = !text;
}

// Errors of background work: a refused key signs out, the rest is shown.
export function failed(e) {
  if (e instanceof ApiError && e.status === 401) {
    setKey('');
    window.dispatchEvent(new Event('cubicle:signed-out'));
    notice('The API key was refused; sign in again.');
    return;
  }
  if (e.name !== 'AbortError') notice(e.message);
}
