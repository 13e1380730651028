// The recipient's screens (issue 12, 003): activation from the slip's QR, PIN, sign-in with
// phone + PIN, and one big "check in now" action: a challenge shown large (and spoken where
// the browser can), a front-camera photo, GPS, signed with the recipient's device key and
// queued in the outbox, so a check-in made without signal is sent when it returns.
import { h, fill, uuid } from '../dom.js';
import { screen } from '../render.js';
import { t, problemText, formatDateRange } from '../i18n.js';
import { api } from '../api.js';
import * as session from '../session.js';
import * as keys from '../keys.js';
import * as store from '../store.js';
import * as outbox from '../outbox.js';
import { addPhoto } from '../photos.js';
import { position } from '../device/geolocation.js';
import { canonicalJson, sha256Hex } from '../domain/canonical.js';
import * as push from '../device/push.js';
import { pushState, outcomeOf, offOutcome, pushButton, PUSH_WORDS } from '../domain/push.js';

const SIGNED_KEYS = ['id', 'recipient_id', 'photo', 'challenge', 'challenge_answer', 'location',
  'captured_at', 'proxy'];
const MESSAGE_PREFIX = 'doorstep-checkin:v1:';
const FRESH_PHOTO_MS = 2 * 60 * 1000;  // a camera file is seconds old; an older one is not "now"
let unlockedKey = null;

const isRecipient = () => !session.needsSignIn() && (session.user()?.roles ?? []).includes('recipient');

function speak(text) {
  try {
    if (!('speechSynthesis' in window)) return;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = 'zh-CN';
    utterance.rate = 0.85;
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
  } catch { /* speech is a help, never required */ }
}

function localChallenge() {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return random[0] % 2 ? { kind: 'fingers', value: 1 + (random[1] % 5) }
    : { kind: 'say_number', value: String(random[1] % 10000).padStart(4, '0') };
}

function challengeWords(challenge) {
  return challenge.kind === 'fingers' ? t('checkin.challenge_fingers', { n: challenge.value })
    : t('checkin.challenge_say', { n: challenge.value.split('').join(' ') });
}

function field(id, label, attrs = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('input', { id, class: 'input big-input', inputmode: 'numeric', autocomplete: 'off', ...attrs }));
}

// render.js, replacing whole: listeners here hold their own fields.
let view = null;
let viewRoot = null;
function drawn(root, build, options) {
  if (viewRoot !== root) { view = screen(root, { patching: false }); viewRoot = root; }
  return view.draw(build, options);
}

async function signInAndMakeKey(phone, pin) {
  await session.signInRecipient(phone, pin);
  const me = session.user();
  let record = await keys.keyFor(me.id);
  if (!record) record = await keys.createKey(me, pin, session.getDeviceId());
  unlockedKey = record.private_key ?? await keys.unlock(me.id, pin);
  try { await keys.register(me.id); } catch (error) { console.warn('key registration waits', error); }
}

function activationScreen(root, code) {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'checkin-error', hidden: true });
  const form = h('form', { class: 'card stack checkin', id: 'activate-form', onsubmit: async (event) => {
    event.preventDefault();
    const pin = form.querySelector('#pin-new').value;
    if (!/^\d{6}$/.test(pin) || pin !== form.querySelector('#pin-again').value) {
      fill(error, t('checkin.pin_mismatch')); error.hidden = false; return;
    }
    try {
      const answer = await api.post('/api/checkins/activate',
        { code: form.querySelector('#activation-code').value, pin }, { auth: false, retries: 0 });
      await signInAndMakeKey(answer.phone, pin);
      history.replaceState(null, '', '/#/checkin');
      render(root);
    } catch (failure) {
      fill(error, problemText(failure)); error.hidden = false;
    }
  } },
  h('h1', {}, t('checkin.activate_title')),
  field('activation-code', t('checkin.code'), { value: code ?? '', inputmode: 'text', autocapitalize: 'characters' }),
  field('pin-new', t('checkin.pin_new'), { type: 'password', maxlength: 6, autocomplete: 'new-password' }),
  field('pin-again', t('checkin.pin_again'), { type: 'password', maxlength: 6, autocomplete: 'new-password' }),
  error,
  h('button', { class: 'btn btn-primary btn-huge', type: 'submit', id: 'activate-submit' }, t('checkin.activate')));
  return drawn(root, () => form, { after: () => speak(t('checkin.activate_spoken')) });
}

function signInScreen(root) {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'checkin-error', hidden: true });
  const form = h('form', { class: 'card stack checkin', id: 'recipient-login', onsubmit: async (event) => {
    event.preventDefault();
    try {
      await signInAndMakeKey(form.querySelector('#recipient-phone').value.trim(),
        form.querySelector('#recipient-pin').value);
      render(root);
    } catch (failure) {
      fill(error, t('checkin.sign_in_failed')); error.hidden = false;
    }
  } },
  h('h1', {}, t('checkin.sign_in_title')),
  field('recipient-phone', t('checkin.phone'), { type: 'tel', autocomplete: 'tel' }),
  field('recipient-pin', t('checkin.pin'), { type: 'password', maxlength: 6 }),
  error,
  h('button', { class: 'btn btn-primary btn-huge', type: 'submit', id: 'recipient-login-submit' }, t('checkin.sign_in')),
  h('a', { class: 'btn', href: '#/checkin/activate' }, t('checkin.have_code')));
  return drawn(root, () => form);
}

async function statusOf() {
  try {
    const status = await api.get('/api/checkins/me', { retries: 0 });
    await store.put('device', status, 'checkin_status');
    return status;
  } catch {
    return store.get('device', 'checkin_status');  // offline: what the phone last knew
  }
}

function windowWords(status) {
  if (!status) return t('checkin.window_unknown');
  const w = status.next_window;
  return t('checkin.window', { span: formatDateRange(w.opens_on, w.closes_on) });
}

function homeScreen(root) {
  let reminders = null;
  return drawn(root, async () => {
    const status = await statusOf();
    const queued = (await outbox.entries()).filter((e) => e.record?.type === 'checkin' && e.status !== 'accepted');
    reminders = pushSection();
    return homeSection(root, status, queued, reminders);
  }, { after: () => pushReminders(reminders).catch((error) => console.warn('reminder control', error)) });
}

function homeSection(root, status, queued, reminders) {
  const last = status?.last_outcome ? t(`checkin.outcome_${status.last_outcome}`) : t('checkin.none_yet');
  return h('section', { class: 'card stack checkin', id: 'checkin-home' },
    h('h1', {}, t('checkin.hello', { name: status?.display_name ?? session.user()?.display_name ?? '' })),
    h('p', { class: 'big-text', id: 'checkin-window' }, windowWords(status)),
    h('p', { class: 'big-text', id: 'checkin-last' }, t('checkin.last', { result: last })),
    status?.is_done_this_window ? h('p', { class: 'big-text ok', id: 'checkin-done' }, t('checkin.done_this_window')) : null,
    queued.length ? h('p', { class: 'big-text warn', id: 'checkin-queued' }, t('checkin.queued')) : null,
    h('button', { class: 'btn btn-primary btn-huge', type: 'button', id: 'checkin-start',
      onclick: () => checkInScreen(root, status) }, t('checkin.now')),
    reminders,
    h('a', { class: 'btn btn-huge', href: '#/my-data', id: 'my-data-link' }, t('checkin.my_data')),
    h('button', { class: 'btn btn-huge', type: 'button', id: 'recipient-sign-out',
      onclick: () => signOut(queued.length) }, t('checkin.sign_out')));
}

// A phone shared in the family: sign-out turns this browser's reminders off (session.js), so
// the next person to sign in does not get this recipient's.
async function signOut(queuedCount) {
  if (!window.confirm(t(queuedCount ? 'checkin.sign_out_queued' : 'checkin.sign_out_confirm'))) return;
  await session.signOut();  // the app shows the sign-in screen
}

// Reminders on the phone (Web Push) when the server has VAPID keys; otherwise, or when
// the phone cannot, the reminder comes by SMS, and the words say so.
async function pushKey() {
  try {
    return { configured: true, key: (await api.get('/api/checkins/push/key', { retries: 0 })).public_key };
  } catch (failure) {
    return { configured: failure.type === 'push-not-configured' ? false : null };
  }
}

function showPush(section, state) {
  section.dataset.state = state;
  section.querySelector('#push-status').textContent = t(PUSH_WORDS[state]);
  section.querySelector('#push-enable').hidden = pushButton(state) !== 'enable';
  section.querySelector('#push-disable').hidden = pushButton(state) !== 'disable';
  section.hidden = state === 'hidden';
}

async function enablePush(section, key) {
  const button = section.querySelector('#push-enable');
  button.disabled = true;
  section.querySelector('#push-status').textContent = t('checkin.push_working');
  let permission = 'default';
  let subscribeError = null;
  let postError = null;
  try {
    permission = await push.askPermission();
    if (permission === 'granted') {
      let subscription = null;
      try { subscription = await push.subscribe(key); } catch (error) { subscribeError = error; }
      if (subscription) {
        try { await push.remember(await api.post('/api/checkins/push/subscriptions', subscription, { retries: 0 })); } catch (error) { postError = error; }
      }
    }
  } catch (error) {
    subscribeError = error;  // a browser without the permission prompt
  }
  if (subscribeError) console.warn('push subscription failed', subscribeError);
  button.disabled = false;
  const outcome = outcomeOf(permission, subscribeError, postError);
  showPush(section, outcome);
  speak(t(PUSH_WORDS[outcome]));
}

async function disablePush(section) {
  const button = section.querySelector('#push-disable');
  button.disabled = true;
  section.querySelector('#push-status').textContent = t('checkin.push_turning_off');
  const outcome = offOutcome(await push.turnOffHere());
  button.disabled = false;
  showPush(section, outcome);
  speak(t(PUSH_WORDS[outcome]));
}

async function pushReminders(section) {
  const online = navigator.onLine;
  const { configured, key } = online ? await pushKey() : { configured: null };
  let subscription = null;
  try { subscription = key && push.isSupported() ? await push.current() : null; } catch { subscription = null; }
  const state = pushState({ online, configured, supported: push.isSupported(), permission: push.permission(), subscribed: Boolean(subscription) });
  // Already on: tell the server again (a replay is harmless), so the phone's current
  // subscription is the one the server keeps for whoever is signed in now.
  if (state === 'on') {
    const { endpoint, keys } = subscription.toJSON();
    api.post('/api/checkins/push/subscriptions', { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } }, { retries: 0 })
      .then(push.remember).catch((error) => console.warn('push subscription not renewed', error));
  }
  section.querySelector('#push-enable').addEventListener('click', () => enablePush(section, key));
  section.querySelector('#push-disable').addEventListener('click', () => disablePush(section));
  showPush(section, state);
}

function pushSection() {
  return h('section', { class: 'stack push-reminders', id: 'push-reminders', 'aria-labelledby': 'push-title', hidden: true },
    h('h2', { id: 'push-title' }, t('checkin.push_title')),
    h('p', { class: 'big-text', id: 'push-status', role: 'status' }),
    h('button', { class: 'btn btn-huge', type: 'button', id: 'push-enable', hidden: true }, t('checkin.push_enable')),
    h('button', { class: 'btn btn-huge', type: 'button', id: 'push-disable', hidden: true }, t('checkin.push_disable')));
}

async function signedRecord(record, pin) {
  if (!unlockedKey) unlockedKey = await keys.unlock(session.user().id, pin);
  const digest = await sha256Hex(canonicalJson(Object.fromEntries(SIGNED_KEYS.map((k) => [k, record[k] ?? null]))));
  const mine = await keys.keyFor(session.user().id);
  return { ...record, key_id: mine.key_id, signature: await keys.sign(unlockedKey, MESSAGE_PREFIX + digest) };
}

function checkInScreen(root, status) {
  const challenge = status?.challenge && navigator.onLine ? status.challenge : localChallenge();
  const words = challengeWords(challenge);
  const error = h('p', { class: 'form-error', role: 'alert', id: 'checkin-error', hidden: true });
  const pinField = unlockedKey ? null : field('checkin-pin', t('checkin.pin'), { type: 'password', maxlength: 6 });
  const camera = h('input', { type: 'file', accept: 'image/*', capture: 'user', id: 'checkin-photo', class: 'visually-hidden',
    onchange: async (event) => {
      const file = event.target.files?.[0];
      if (!file || saving) return;
      saving = true;
      try {
        const takenNow = Date.now() - (file.lastModified || Date.now()) < FRESH_PHOTO_MS;
        const photo = await addPhoto(file);
        const fix = await position().catch(() => null);
        if (!fix) { fill(error, t('checkin.need_gps')); error.hidden = false; return; }
        const now = new Date().toISOString();
        const record = await signedRecord({
          type: 'checkin', id: uuid(), recipient_id: status?.recipient_id ?? null,
          photo: { sha256: photo.sha256, source: takenNow ? 'camera' : 'gallery', captured_at: takenNow ? now : photo.captured_at },
          challenge, challenge_answer: challenge.kind === 'fingers' ? String(challenge.value) : challenge.value,
          location: { lat: fix.lat, lon: fix.lon, accuracy_m: fix.accuracy_m }, captured_at: now, proxy: null,
        }, pinField?.querySelector('input').value);
        await outbox.enqueue(record);
        const words = navigator.onLine ? t('checkin.sent') : t('checkin.saved_offline');
        await drawn(root, () => h('section', { class: 'card stack checkin', id: 'checkin-saved' },
          h('p', { class: 'big-text ok', role: 'status' }, words),
          h('button', { class: 'btn btn-huge', type: 'button', id: 'checkin-back', onclick: () => render(root) }, t('nav.back'))),
        { after: () => speak(words) });
      } catch (failure) {
        console.error(failure);
        fill(error, failure instanceof keys.WrongPin ? t('checkin.pin_wrong') : String(failure.message || failure));
        error.hidden = false;
        saving = false;
      }
    } });
  let saving = false;
  return drawn(root, () => h('section', { class: 'card stack checkin', id: 'checkin-flow' },
    h('p', { class: 'big-text' }, t('checkin.challenge_intro')),
    h('p', { class: 'challenge', id: 'checkin-challenge', 'aria-live': 'polite' }, words),
    pinField, error,
    h('label', { class: 'btn btn-primary btn-huge', for: 'checkin-photo', id: 'checkin-camera' }, t('checkin.take_photo')),
    camera,
    h('button', { class: 'btn', type: 'button', id: 'checkin-speak', onclick: () => speak(words) }, t('checkin.say_again'))),
  { after: () => speak(`${t('checkin.challenge_intro')} ${words}`) });
}

function followOutbox(root) {
  stopFollowing?.();
  stopFollowing = outbox.onChange((event) => {
    if (['done', 'queued', 'error'].includes(event.type) && root.isConnected && root.querySelector('#checkin-home')) {
      homeScreen(root);
    }
  });
  return () => { stopFollowing?.(); stopFollowing = null; };
}
let stopFollowing = null;

export async function render(root, { params = [] } = {}) {
  root.classList.add('checkin-root');
  document.documentElement.classList.add('large-text');
  const code = new URLSearchParams(location.search).get('code');
  const stop = followOutbox(root);
  if (code && !isRecipient()) await activationScreen(root, code);
  else if (params[0] === 'activate' && !isRecipient()) await activationScreen(root, '');
  else if (!isRecipient()) await signInScreen(root);
  else await homeScreen(root);
  return stop;
}
