// The village assistant's check-in desk (issue 12): follow-ups of missed and flagged
// check-ins (call or home visit, what was found, closed by whom) and a proxy check-in for a
// recipient who cannot do it: a reason, and the assistant's own photo, GPS and key.
// Loaded on demand and kept outside static/js/, so it is never precached (a desk screen).
import { h, fill, toast, uuid } from '../js/dom.js';
import { t, getLang, problemText, extend } from '../js/i18n.js';
import { api } from '../js/api.js';
import * as session from '../js/session.js';
import * as keys from '../js/keys.js';
import * as outbox from '../js/outbox.js';
import { addPhoto } from '../js/photos.js';
import { position } from '../js/device/geolocation.js';
import { canonicalJson, sha256Hex } from '../js/domain/canonical.js';

const SIGNED_KEYS = ['id', 'recipient_id', 'photo', 'challenge', 'challenge_answer', 'location',
  'captured_at', 'proxy'];

function flagWords(flag) { return getLang() === 'en' ? flag.detail_en : flag.detail_zh; }

function followUpCard(item, reload) {
  const outcome = h('textarea', { id: `outcome-${item.id}`, class: 'input', rows: 2 });
  const action = h('select', { id: `action-${item.id}`, class: 'input' },
    h('option', { value: item.action }, t(`desk.action_${item.action}`)),
    h('option', { value: item.action === 'call' ? 'home_visit' : 'call' },
      t(`desk.action_${item.action === 'call' ? 'home_visit' : 'call'}`)));
  const closed = item.status === 'closed';
  return h('li', { class: 'card stack follow-up', dataset: { id: item.id, status: item.status } },
    h('h2', {}, `${item.recipient_name} · ${t(`desk.reason_${item.reason}`)}`,
      item.window_key ? ` · ${item.window_key}` : ''),
    item.flags.length ? h('ul', {}, item.flags.map((f) => h('li', {}, flagWords(f)))) : null,
    closed ? h('p', { class: 'ok' }, t('desk.closed', { outcome: item.outcome })) : [
      h('label', { for: `action-${item.id}` }, t('desk.action')), action,
      h('label', { for: `outcome-${item.id}` }, t('desk.outcome')), outcome,
      h('button', { class: 'btn btn-primary', type: 'button', id: `close-${item.id}`, onclick: async () => {
        try {
          await api.post(`/api/checkins/follow-ups/${item.id}/close`,
            { action: action.value, outcome: outcome.value }, { headers: { 'If-Match': `"${item.version}"` } });
          toast(t('desk.closed_toast'));
          reload();
        } catch (error) { toast(problemText(error), 'error'); }
      } }, t('desk.close'))]);
}

async function proxyCheckIn(recipient, reason, file) {
  const me = session.user();
  const pin = document.getElementById('desk-pin')?.value ?? '';
  const privateKey = await keys.unlock(me.id, pin);
  const mine = await keys.keyFor(me.id);
  const photo = await addPhoto(file);
  const fix = await position();
  const now = new Date().toISOString();
  const record = {
    type: 'checkin', id: uuid(), recipient_id: recipient.id,
    photo: { sha256: photo.sha256, source: 'camera', captured_at: now },
    challenge: { kind: 'fingers', value: 1 }, challenge_answer: null,
    location: { lat: fix.lat, lon: fix.lon, accuracy_m: fix.accuracy_m }, captured_at: now,
    proxy: { reason },
  };
  const digest = await sha256Hex(canonicalJson(Object.fromEntries(SIGNED_KEYS.map((k) => [k, record[k] ?? null]))));
  await outbox.enqueue({ ...record, key_id: mine.key_id,
    signature: await keys.sign(privateKey, `doorstep-checkin:v1:${digest}`) });
}

async function thumbnail(sha256) {
  const response = await api.get(`/api/photos/${sha256}/thumbnail`, { raw: true });
  return URL.createObjectURL(await response.blob());
}

/** The recipient's timeline: each check-in's photo, place, judgement and flags. */
async function showHistory(recipient, host) {
  try {
    const history = await api.get(`/api/checkins/recipients/${recipient.id}/history`);
    const items = await Promise.all(history.checkins.map(async (c) => h('li', { class: 'timeline-item' },
      h('img', { src: await thumbnail(c.photo_sha256).catch(() => ''), alt: t('desk.photo_of', { at: c.captured_at }),
        width: 96, height: 96 }),
      h('p', {}, `${c.captured_at.slice(0, 16).replace('T', ' ')} · ${t(`checkin.outcome_${c.outcome}`)}`,
        c.is_proxy ? ` · ${t('desk.by_proxy')}` : ''),
      h('p', {}, t('desk.place', { lat: c.lat.toFixed(5), lon: c.lon.toFixed(5), acc: c.accuracy_m ?? '?' })),
      c.flags.length ? h('ul', {}, c.flags.map((f) => h('li', {}, flagWords(f)))) : null)));
    fill(host, items.length ? h('ol', { class: 'plain timeline', id: `history-${recipient.id}` }, items)
      : h('p', { id: `history-${recipient.id}` }, t('desk.no_history')));
  } catch (error) { toast(problemText(error), 'error'); }
}

function recipientRow(recipient) {
  const reason = h('input', { id: `reason-${recipient.id}`, class: 'input', placeholder: t('desk.reason_hint') });
  const historyHost = h('div', {});
  return h('li', { class: 'card stack', dataset: { id: recipient.id } },
    h('h2', {}, recipient.name),
    h('button', { class: 'btn', type: 'button', id: `show-history-${recipient.id}`,
      onclick: () => showHistory(recipient, historyHost) }, t('desk.history')),
    historyHost,
    h('label', { for: `reason-${recipient.id}` }, t('desk.proxy_reason')), reason,
    h('label', { class: 'btn', for: `proxy-photo-${recipient.id}` }, t('desk.proxy')),
    h('input', { type: 'file', accept: 'image/*', capture: 'environment', class: 'visually-hidden',
      id: `proxy-photo-${recipient.id}`, onchange: async (event) => {
        const file = event.target.files?.[0];
        if (!file) return;
        if (reason.value.trim().length < 2) { toast(t('desk.reason_needed'), 'error'); return; }
        try {
          await proxyCheckIn(recipient, reason.value.trim(), file);
          toast(t('desk.proxy_queued'));
          document.getElementById('main').dataset.proxied = recipient.id;
        } catch (error) { toast(problemText(error), 'error'); }
      } }));
}

/** The desk's words (follow-ups, proxy check-in): fetched with the screen, never precached. */
const DESK_WORDS = '/static/desk/i18n';

export async function render(root) {
  await extend(DESK_WORDS);
  const load = async () => {
    delete root.dataset.ready;
    try {
      const [followUps, recipients] = await Promise.all([
        api.get('/api/checkins/follow-ups?status=all'), api.get('/api/checkins/recipients')]);
      fill(root, h('section', { class: 'stack', id: 'checkin-desk' },
        h('h1', {}, t('desk.title')),
        h('h2', {}, t('desk.follow_ups')),
        followUps.items.length ? h('ul', { class: 'plain', id: 'follow-ups' }, followUps.items.map((f) => followUpCard(f, load)))
          : h('p', {}, t('desk.nothing')),
        h('h2', {}, t('desk.recipients')),
        h('label', { for: 'desk-pin' }, t('desk.pin_prompt')),
        h('input', { id: 'desk-pin', class: 'input', type: 'password', inputmode: 'numeric', maxlength: 6 }),
        h('ul', { class: 'plain', id: 'desk-recipients' }, recipients.items.map(recipientRow))));
    } catch (error) {
      fill(root, h('p', { class: 'form-error', role: 'alert' }, problemText(error)));
    }
    root.dataset.ready = 'true';
  };
  await load();
}
