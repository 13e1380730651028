// Settings and "about": who is signed in, storage used, lock, sign-out.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import * as store from '../store.js';
import * as session from '../session.js';

function megabytes(bytes) { return (bytes / 1024 / 1024).toFixed(1); }

export async function render(root, { navigate }) {
  const me = session.user();
  const storage = h('p', { id: 'storage-estimate' }, '…');
  const people = await store.all('people');
  const unsent = (await store.all('outbox')).filter((r) => r.status !== 'accepted').length;
  const lockEnabled = (await store.get('device', 'lock_enabled')) !== false;
  clear(root).append(
    h('h1', {}, t('settings.title')),
    h('p', {}, t('settings.signed_in_as', { name: me?.display_name ?? '', place: me?.jurisdiction?.name ?? '' })),
    h('h2', {}, t('settings.investigators')),
    h('ul', { class: 'members' }, people.map((p) => h('li', {}, p.display_name, ' ', h('span', { class: 'muted' }, p.username)))),
    h('a', { class: 'btn btn-block', href: '#/add-investigator', id: 'add-investigator' }, t('settings.add_investigator')),
    h('h2', {}, t('settings.storage')), storage,
    h('label', { class: 'choice' }, h('input', { type: 'checkbox', id: 'lock-enabled', checked: lockEnabled,
      onchange: (event) => store.put('device', event.target.checked, 'lock_enabled') }), t('settings.lock')),
    h('h2', {}, t('settings.about')),
    h('p', { class: 'muted' }, t('settings.version', { version: window.DOORSTEP_ASSET_VERSION ?? '' })),
    h('p', {}, h('a', { href: '/api/docs' }, t('settings.api_docs'))),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-danger', id: 'sign-out', type: 'button',
      onclick: async () => {
        const question = unsent ? t('settings.sign_out_unsent', { count: unsent }) : t('settings.sign_out_confirm');
        if (!window.confirm(question)) return;
        await session.signOut();
        navigate('login');
      } }, t('settings.sign_out'))),
  );
  if (navigator.storage?.estimate) {
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    const persisted = await navigator.storage.persisted?.();
    storage.textContent = t('settings.storage_used', { used: megabytes(usage), quota: megabytes(quota) })
      + (persisted ? ` · ${t('settings.persisted')}` : '');
  } else {
    storage.textContent = t('settings.storage_unknown');
  }
}
