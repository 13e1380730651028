// Settings and "about": who is signed in, storage used, lock, sign-out.
import { h, toast } from '../dom.js';
import { screen } from '../render.js';
import { t, problemText, formatDate } from '../i18n.js';
import * as store from '../store.js';
import * as session from '../session.js';
import * as keys from '../keys.js';
import { isLegacyRecord } from '../domain/device-keys.js';
import * as storage from '../device/storage.js';

function megabytes(bytes) { return (bytes / 1024 / 1024).toFixed(1); }

/** What this phone holds for an investigator: an i18n key. */
function keyState(record) {
  if (!record) return 'keys.none';
  if (isLegacyRecord(record)) return 'keys.legacy';
  return record.key_id ? 'keys.ready' : 'keys.unregistered';
}

/** The signed-in user's keys on the server (online): revoke the one of a lost phone. */
async function showMyKeys(host, local) {
  if (!navigator.onLine) { host.replaceChildren(h('p', { class: 'muted' }, t('keys.offline'))); return; }
  let items;
  try { items = await keys.serverKeys(); } catch (error) {
    host.replaceChildren(h('p', { class: 'muted' }, problemText(error)));
    return;
  }
  const active = items.filter((key) => !key.revoked_at);
  // A name a worker can tell apart (issue 21: every other key read "其他手机"): which phone,
  // the end of its device id, and the day it was set up.
  const keyName = (key) => t(key.id === local?.key_id ? 'keys.this_phone_named' : 'keys.other_phone_named',
    { device: (key.device_id ?? '').slice(-6), date: formatDate(key.created_at) });
  host.replaceChildren(h('ul', { class: 'members' }, active.map((key) => h('li', { 'data-key': key.id },
    h('span', { class: 'key-name' }, keyName(key)), ' ',
    h('button', { class: 'btn btn-danger', type: 'button', 'aria-label': `${t('keys.revoke')}：${keyName(key)}`, onclick: async (event) => {
      if (!window.confirm(t('keys.revoke_confirm'))) return;
      event.target.disabled = true;
      try {
        await keys.revokeServerKey(key.id);
        if (key.id === local?.key_id) await keys.destroyKey(local.user_id);
        showMyKeys(host, key.id === local?.key_id ? null : local);
      } catch (error) {
        toast(problemText(error), 'error');
        event.target.disabled = false;
      }
    } }, t('keys.revoke'))))));
}

export function render(root, { navigate }) {
  const view = screen(root, { patching: false });
  let shownKeys = null;
  return view.draw(async () => {
    const { body, myKeys, local } = await settingsBody(view, navigate);
    shownKeys = () => showMyKeys(myKeys, local);
    return body;
  }, { after: () => shownKeys() });
}

async function settingsBody(view, navigate) {
  const me = session.user();
  const used = h('p', { id: 'storage-estimate' }, '…');
  const kept = h('div', { id: 'storage-persisted' });
  const people = await store.all('people');
  const unsent = (await store.all('outbox')).filter((r) => r.status !== 'accepted').length;
  const lockEnabled = (await store.get('device', 'lock_enabled')) !== false;
  const keyRecords = new Map((await store.all('keys')).map((record) => [record.user_id, record]));
  const myKeys = h('div', { id: 'my-keys' });
  await showStorage(view, used, kept);
  const body = [
    h('h1', {}, t('settings.title')),
    h('p', {}, t('settings.signed_in_as', { name: me?.display_name ?? '', place: me?.jurisdiction?.name ?? '' })),
    h('p', {}, h('a', { class: 'btn btn-block', href: '#/account', id: 'open-account' }, t('settings.account'))),
    h('h2', {}, t('settings.investigators')),
    h('ul', { class: 'members', id: 'people' }, people.map((p) => h('li', { 'data-user': p.id },
      p.display_name, ' ', h('span', { class: 'muted' }, p.username), ' ',
      h('span', { class: 'key-state' }, t(keyState(keyRecords.get(p.id))))))),
    h('a', { class: 'btn btn-block', href: '#/add-investigator', id: 'add-investigator' }, t('settings.add_investigator')),
    h('h2', {}, t('settings.my_keys')), myKeys,
    h('h2', {}, t('settings.storage')), used, kept,
    h('label', { class: 'choice' }, h('input', { type: 'checkbox', id: 'lock-enabled', checked: lockEnabled,
      onchange: (event) => store.put('device', event.target.checked, 'lock_enabled') }), t('settings.lock')),
    h('h2', {}, t('settings.about')),
    // The release people can quote (0.1.0), not the asset hash the caches are keyed by.
    h('p', { class: 'muted', id: 'app-version', dataset: { asset: window.DOORSTEP_ASSET_VERSION ?? '' } },
      t('settings.version', { version: document.querySelector('meta[name="doorstep-app-version"]')?.content || '—' })),
    h('p', {}, h('a', { href: '/api/docs' }, t('settings.api_docs'))),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-danger', id: 'sign-out', type: 'button',
      onclick: async () => {
        const question = unsent ? t('settings.sign_out_unsent', { count: unsent }) : t('settings.sign_out_confirm');
        if (!window.confirm(question)) return;
        await session.signOut();
        navigate('login');
      } }, t('settings.sign_out'))),
  ];
  return { body, myKeys, local: keyRecords.get(me?.id) };
}

/** Storage used, and whether the browser promised to keep it; when not, what to do. */
async function showStorage(view, used, kept) {
  const { persisted, usage, quota } = await storage.status();
  used.textContent = usage === null ? t('settings.storage_unknown')
    : t('settings.storage_used', { used: megabytes(usage), quota: megabytes(quota ?? 0) });
  kept.dataset.persisted = String(persisted);
  if (persisted) {
    kept.replaceChildren(h('p', { class: 'status-accepted' }, t('settings.persisted')));
  } else {
    kept.replaceChildren(h('p', { class: 'warn' }, t(persisted === null ? 'settings.persist_unknown' : 'settings.not_persisted')),
      h('p', { class: 'hint', id: 'persist-advice' }, t('settings.persist_advice')),
      h('button', { class: 'btn', type: 'button', id: 'persist-retry', onclick: () => view.draw(async () => {
        await storage.requestPersistence();
        await showStorage(view, used, kept);
      }) }, t('settings.persist_retry')));
  }
}
