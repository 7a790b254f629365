// The console's entry: sign in, then the list (#/) or one sandbox (#/sandbox/ID).
import { ApiError, el, getJSON, key, setKey } from './api.js';
import { showList } from './list.js';
import { showSandbox } from './sandbox.js';
import { notice } from './ui.js';

const main = document.getElementById('main');
let leave = null;       // what the current view does when left (timers, connections)

function showSignIn() {
  const input = el('input', { type: 'password', id: 'api-key', autocomplete: 'current-password',
    placeholder: 'the key cubicled printed', required: true });
  const form = el('form', { class: 'signin', id: 'signin' },
    el('h2', {}, 'Sign in'),
    el('p', { class: 'muted' }, 'cubicled prints its API key at start; it is also in its data directory (api-key).'),
    el('label', { for: 'api-key' }, 'API key'), input,
    el('button', { class: 'primary', type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    setKey(input.value.trim());
    try {
      await getJSON('/sandboxes');
      notice('');
      route();
    } catch (e) {
      setKey('');
      notice(e instanceof ApiError && e.status === 401 ? 'That key is not the one cubicled has.' : e.message);
    }
  });
  main.replaceChildren(form);
  input.focus();
  return null;
}

function route() {
  if (leave) leave();
  leave = null;
  const signOut = document.getElementById('sign-out');
  document.getElementById('where').textContent = '';
  signOut.hidden = !key();
  if (!key()) {
    leave = showSignIn();
    return;
  }
  const m = location.hash.match(/^#\/sandbox\/([A-Za-z0-9]+)$/);
  leave = m ? showSandbox(main, m[1]) : showList(main);
}

document.getElementById('sign-out').addEventListener('click', () => {
  setKey('');
  notice('');
  location.hash = '#/';
  route();
});
window.addEventListener('hashchange', () => { notice(''); route(); });
window.addEventListener('cubicle:signed-out', route);
route();
