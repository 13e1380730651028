// The village assistant's check-in desk (issue 12): follow-ups of missed and flagged
// check-ins (call or home visit, what was found, closed by whom) and a proxy check-in for a
// recipient who cannot do it: a reason, and the assistant's own photo, GPS and key.
// Loaded on demand and kept outside static/js/, so it is never precached (a desk screen).
import { h, fill, toast, uuid } from '../js/dom.js';
import { t, getLang, problemText, extend, formatDateTime } from '../js/i18n.js';
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

/** A window key as people write it: "2026-12" → 2026年12月, "2026-Q2" → 2026年第2季度. */
function windowWords(key) {
  const [, year, month, quarter] = /^(\d{4})-(?:(\d{2})|Q(\d))$/.exec(key ?? '') ?? [];
  if (!year) return key ?? '';
  return month ? t('desk.window_month', { year, month: Number(month) }) : t('desk.window_quarter', { year, quarter });
}

/** A photo the desk may see, drawn when it arrives (a missing one says so in words). */
function photoFigure(sha256, caption, id) {
  const figure = h('figure', { class: 'follow-up-photo', id }, h('figcaption', {}, caption));
  if (!sha256) { figure.append(h('p', { class: 'empty' }, t('desk.no_photo'))); return figure; }
  thumbnail(sha256).then((url) => figure.prepend(h('img', { src: url, alt: caption, width: 96, height: 96 })))
    .catch(() => figure.append(h('p', { class: 'empty' }, t('desk.no_photo'))));
  return figure;
}

/** One follow-up: who, when, the selfie beside the reference photo, the phone as the role may
 *  see it and each flag's reason (issue 21: the cards read alike, "杨春梅 · 有疑点 · 2026-12"). */
function followUpCard(item, reload) {
  const errorId = `outcome-error-${item.id}`;
  const outcomeError = h('p', { class: 'field-error', id: errorId, role: 'alert' });
  const outcome = h('textarea', { id: `outcome-${item.id}`, class: 'input', rows: 2, 'aria-describedby': errorId });
  const action = h('select', { id: `action-${item.id}`, class: 'input' },
    h('option', { value: item.action }, t(`desk.action_${item.action}`)),
    h('option', { value: item.action === 'call' ? 'home_visit' : 'call' },
      t(`desk.action_${item.action === 'call' ? 'home_visit' : 'call'}`)));
  const closed = item.status === 'closed';
  const showError = (text) => { outcomeError.textContent = text; outcome.setAttribute('aria-invalid', 'true'); };
  const when = item.checkin_captured_at ? formatDateTime(item.checkin_captured_at) : windowWords(item.window_key);
  return h('li', { class: 'card stack follow-up', dataset: { id: item.id, status: item.status, recipient: item.recipient_id } },
    h('h2', {}, `${item.recipient_name} · ${t(`desk.reason_${item.reason}`)}`, when ? ` · ${when}` : ''),
    h('p', { class: 'follow-up-facts' },
      h('span', { class: 'follow-up-phone' }, t('desk.phone', { phone: item.phone ?? '—' })),
      item.window_key && item.checkin_captured_at ? ` · ${t('desk.window', { window: windowWords(item.window_key) })}` : ''),
    h('div', { class: 'follow-up-photos' },
      item.checkin_id ? photoFigure(item.checkin_photo_sha256, t('desk.selfie'), `selfie-${item.id}`) : null,
      photoFigure(item.reference_photo_sha256, t('desk.reference_photo'), `reference-${item.id}`)),
    item.flags.length ? [h('h3', {}, t('desk.flag_reasons')),
      h('ul', { class: 'follow-up-flags' }, item.flags.map((f) => h('li', {}, flagWords(f))))] : null,
    closed ? h('p', { class: 'ok' }, t('desk.closed', { outcome: item.outcome })) : [
      h('label', { for: `action-${item.id}` }, t('desk.action')), action,
      h('label', { for: `outcome-${item.id}` }, t('desk.outcome')), outcome, outcomeError,
      h('button', { class: 'btn btn-primary', type: 'button', id: `close-${item.id}`, onclick: async () => {
        outcomeError.textContent = '';
        outcome.removeAttribute('aria-invalid');
        if (!outcome.value.trim()) {  // the red text the toast refers to, beside the field
          showError(t('desk.outcome_needed'));
          toast(t('problem.validation-failed'), 'error');
          outcome.focus();
          return;
        }
        try {
          await api.post(`/api/checkins/follow-ups/${item.id}/close`,
            { action: action.value, outcome: outcome.value.trim() }, { headers: { 'If-Match': `"${item.version}"` } });
          toast(t('desk.closed_toast'));
          reload();
        } catch (error) {
          if (JSON.stringify(error?.errors ?? {}).includes('outcome')) showError(t('desk.outcome_needed'));
          toast(problemText(error), 'error');
        }
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
      h('img', { src: await thumbnail(c.photo_sha256).catch(() => ''), alt: t('desk.photo_of', { at: formatDateTime(c.captured_at) }),
        width: 96, height: 96 }),
      h('p', {}, `${formatDateTime(c.captured_at)} · ${t(`checkin.outcome_${c.outcome}`)}`,
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

// A recipient's correction request (PIPL Art. 46, issue 22): a task here until decided; the
// recipient reads the outcome and the note on their own view.
function correctionCard(item, reload) {
  const outcome = h('select', { id: `correction-outcome-${item.id}`, class: 'input' },
    ['corrected', 'refused'].map((slug) => h('option', { value: slug }, t(`desk.correction_${slug}`))));
  const note = h('input', { id: `correction-note-${item.id}`, class: 'input', maxlength: 2000 });
  return h('li', { class: 'card stack', dataset: { correctionId: item.id } },
    h('p', {}, h('strong', {}, item.head_name ?? ''), ` · ${formatDateTime(item.requested_at)}`),
    h('p', {}, item.requested_text),
    h('label', { for: `correction-outcome-${item.id}` }, t('desk.correction_outcome')), outcome,
    h('label', { for: `correction-note-${item.id}` }, t('desk.correction_note')), note,
    h('button', { class: 'btn btn-primary', type: 'button', id: `correction-decide-${item.id}`, onclick: async () => {
      try {
        await api.post(`/api/personal-data/corrections/${encodeURIComponent(item.id)}/decision`,
          { outcome: outcome.value, note: note.value.trim() }, { retries: 0 });
        toast(t('desk.correction_done'));
        await reload();
      } catch (error) { toast(problemText(error), 'error'); }
    } }, t('desk.correction_decide')));
}

/** The desk's words (follow-ups, proxy check-in): fetched with the screen, never precached. */
const DESK_WORDS = '/static/desk/i18n';

export async function render(root) {
  await extend(DESK_WORDS);
  const load = async () => {
    delete root.dataset.ready;
    try {
      const [followUps, recipients, corrections] = await Promise.all([
        api.get('/api/checkins/follow-ups?status=all'), api.get('/api/checkins/recipients'),
        api.get('/api/personal-data/corrections').catch(() => [])]);
      fill(root, h('section', { class: 'stack', id: 'checkin-desk' },
        h('h1', {}, t('desk.title')),
        h('h2', {}, t('desk.follow_ups')),
        followUps.items.length ? h('ul', { class: 'plain', id: 'follow-ups' }, followUps.items.map((f) => followUpCard(f, load)))
          : h('p', {}, t('desk.nothing')),
        corrections.length ? [h('h2', {}, t('desk.corrections')),
          h('ul', { class: 'plain', id: 'corrections' }, corrections.map((c) => correctionCard(c, load)))] : null,
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
