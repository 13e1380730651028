// The hand-drawn signature pad and the attestation it goes with (谁调查谁签字谁负责,
// 002/004): the signer unlocks their own device key with their PIN and signs the digest of
// exactly what was recorded; the drawn signature is kept as a PNG and travels like a photo.
// Shared by the home-visit survey and the recipient check-in.
import { h, fill } from '../dom.js';
import { t, problemText } from '../i18n.js';
import * as store from '../store.js';
import * as keys from '../keys.js';
import { addImageBlob } from '../photos.js';
import { submissionDigest, attestationMessage } from '../domain/canonical.js';

/** A canvas to sign on with a finger or pen: {canvas, hasInk(), clear(), png()}. */
export function signaturePad({ id = 'sig-canvas', width = 640, height = 360 } = {}) {
  const canvas = h('canvas', { class: 'sig', id, width, height });
  const pen = canvas.getContext('2d');
  pen.lineWidth = 4; pen.lineCap = 'round'; pen.strokeStyle = '#000';
  let hasInk = false;
  let drawing = false;
  const at = (event) => { const r = canvas.getBoundingClientRect();
    return [(event.clientX - r.left) * canvas.width / r.width, (event.clientY - r.top) * canvas.height / r.height]; };
  canvas.addEventListener('pointerdown', (e) => { drawing = true; canvas.setPointerCapture?.(e.pointerId); pen.beginPath(); pen.moveTo(...at(e)); });
  canvas.addEventListener('pointermove', (e) => { if (!drawing) return; pen.lineTo(...at(e)); pen.stroke(); hasInk = true; });
  canvas.addEventListener('pointerup', () => { drawing = false; });
  return {
    canvas,
    hasInk: () => hasInk,
    clear() { pen.clearRect(0, 0, canvas.width, canvas.height); hasInk = false; },
    png: () => new Promise((resolve) => { canvas.toBlob(resolve, 'image/png'); }),
  };
}

/**
 * One attestation by `userId`: unlock their key with `pin`, keep the drawn signature and sign
 * the digest of `content`. Rejects with keys.WrongPin for a wrong PIN.
 */
export async function attest(userId, pin, pad, content) {
  const privateKey = await keys.unlock(userId, pin);
  const imageSha = await addImageBlob(await pad.png());
  const signature = await keys.sign(privateKey, attestationMessage(await submissionDigest(content)));
  const record = await keys.keyFor(userId);
  return { user_id: userId, key_id: record.key_id, signature, signature_image_sha256: imageSha,
    signed_at: new Date().toISOString() };
}

/**
 * The "investigators sign" section: who has signed, and for whoever has not, a signer
 * choice, the pad, the PIN and a Sign button. `content()` is what the signatures cover;
 * `onSigned(attestation)` stores the new attestation and redraws.
 */
export async function attestationBlock({ attestations, content, onSigned, needed = 2 }) {
  // Listeners hold the pad, signer and PIN: never patched (render.js).
  const section = h('section', { id: 'attest', dataset: { fresh: '' } });
  await fillAttestation(section, { attestations, content, onSigned, needed });
  return section;
}

/** What a failed signing attempt tells the signer: the PIN guesses left, or that it is gone. */
function failureText(failure) {
  if (failure instanceof keys.KeyDestroyed) return t('problem.pin-locked-out');
  if (failure instanceof keys.WrongPin) {
    return Number.isInteger(failure.remaining) ? t('pin.wrong_left', { count: failure.remaining }) : t('pin.wrong');
  }
  return problemText(failure);
}

/** (Re)draw the section: a destroyed key drops its owner from the signers, so it is redrawn. */
async function fillAttestation(section, options, message = '') {
  const { attestations, content, onSigned, needed } = options;
  const people = await store.all('keys');
  const signed = new Set(attestations.map((a) => a.user_id));
  const waiting = people.filter((p) => !signed.has(p.user_id));
  const pad = signaturePad();
  const signer = h('select', { id: 'signer' }, waiting.map((p) => h('option', { value: p.user_id }, p.display_name)));
  const pin = h('input', { id: 'sign-pin', type: 'password', inputmode: 'numeric', maxlength: 6, autocomplete: 'off', 'aria-label': t('pin.enter') });
  const error = h('p', { class: 'form-error', id: 'sign-error', role: 'alert' }, message);
  const sign = h('button', { class: 'btn btn-primary btn-block', type: 'button', id: 'sign', onclick: async () => {
    error.textContent = '';
    if (!pad.hasInk()) { error.textContent = t('survey.need_signature'); return; }
    sign.disabled = true;
    try {
      await onSigned(await attest(signer.value, pin.value, pad, content()));
    } catch (failure) {
      if (failure instanceof keys.KeyDestroyed) { await fillAttestation(section, options, failureText(failure)); return; }
      error.textContent = failureText(failure);
      pin.value = '';
      sign.disabled = false;
    }
  } }, t('survey.sign'));
  const names = new Map(people.map((p) => [p.user_id, p.display_name]));
  fill(section, h('h2', {}, t('survey.attest')), h('p', { class: 'hint' }, t('survey.attest_why')),
    h('ul', { class: 'members', id: 'signed-list' }, attestations.map((a) =>
      h('li', { class: 'status-accepted' }, t('survey.signed_by', { name: names.get(a.user_id) ?? a.user_id })))),
    waiting.length && attestations.length < needed ? h('div', { class: 'card stack' },
      h('label', { for: 'signer' }, t('survey.signer')), signer,
      h('p', { class: 'hint' }, t('survey.draw_signature')), pad.canvas,
      h('button', { class: 'btn', type: 'button', onclick: () => pad.clear() }, t('survey.clear_signature')),
      h('label', { for: 'sign-pin' }, t('pin.enter')), pin, error, sign) : h('p', { class: 'form-error', id: 'sign-error', role: 'alert' }, message),
    people.length < needed ? h('p', { class: 'warn' }, t('survey.need_two', { n: needed }), ' ', h('a', { href: '#/add-investigator' }, t('settings.add_investigator'))) : null);
}
