// The home-visit survey, rendered from the form definition the pull delivered.
// Sections are steps; the last step takes the end GPS stamp and both investigators'
// signatures. Every change is saved to a draft in IndexedDB at once, and reopening
// returns to the same section and field.
import { h, clear, toast, uuid } from '../dom.js';
import { t, getLang, problemText } from '../i18n.js';
import * as store from '../store.js';
import * as session from '../session.js';
import * as keys from '../keys.js';
import * as outbox from '../outbox.js';
import { addPhoto, addImageBlob, thumbnailUrl } from '../photos.js';
import { submissionDigest, attestationMessage } from '../domain/canonical.js';
import { appState } from '../app.js';

// form.js (shared with the server's rules) is loaded lazily so a missing or broken copy
// only costs live checks, not the whole screen.
let logic = null;
async function loadLogic() {
  logic ??= await import('../domain/form.js').catch((error) => { console.warn('form.js', error); return {}; });
  return logic;
}
const relevant = (item, values, entry) => (logic.isRelevant ? logic.isRelevant(item, values, entry) : true);
/** {values, computed}: values as the rules see them (hidden answers cleared, context merged). */
function computeAll(defn, data, context) {
  const result = logic.computeCalculations ? logic.computeCalculations(defn, data, context) : null;
  return { values: { ...(result?.values ?? data), ...context }, computed: result?.computed ?? {} };
}
function validateAll(defn, data, context) {
  if (!logic.validateForm) return { errors: {} };
  return logic.validateForm(defn, data, context);
}

const label = (text) => (typeof text === 'string' ? text : text?.[getLang()] ?? text?.['zh-CN'] ?? '');

async function latestForm() {
  const forms = await store.all('forms');
  return forms.filter((f) => f.form_id === 'household_survey').sort((a, b) => b.version - a.version)[0]
    ?? forms.sort((a, b) => b.version - a.version)[0];
}

/** Repeat entries prefilled from the household's registered members. */
function prefillMembers(group, household) {
  const names = new Set((group.fields ?? []).map((f) => f.name));
  return (household.members ?? []).map((member) => Object.fromEntries(
    Object.entries(member).filter(([k, v]) => names.has(k) && v != null && !String(v).includes('*'))));
}

export function position(options = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(Object.assign(new Error('no geolocation'), { code: 2 })); return; }
    navigator.geolocation.getCurrentPosition((p) => resolve({
      lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy),
      captured_at: new Date(p.timestamp || Date.now()).toISOString() }), reject,
    { enableHighAccuracy: true, timeout: 20_000, maximumAge: 30_000, ...options });
  });
}
const GPS_ERROR = { 1: 'survey.gps_denied', 2: 'survey.gps_unavailable', 3: 'survey.gps_timeout' };

export async function render(root, { params, navigate }) {
  await loadLogic();
  const item = await store.get('cases', params[0]);
  const defn = await latestForm();
  if (!item || !defn) {
    clear(root).append(h('p', { class: 'empty', id: 'no-form' }, item ? t('survey.no_form') : t('case.missing')),
      h('a', { class: 'btn', href: '#/cases' }, t('nav.back')));
    return undefined;
  }
  const household = (await store.get('households', item.household_id)) ?? item.household ?? {};
  const context = { case_kind: item.kind };
  // The village's min_visit_team_size (004: at least 2); every one of them signs.
  const signersNeeded = (await store.get('settings', item.jurisdiction_code))?.min_visit_team_size ?? 2;
  let draft = (await store.allByIndex('drafts', 'case_id', item.id)).find((d) => d.state === 'draft');
  if (!draft) {
    draft = { id: uuid(), case_id: item.id, form_id: defn.form_id, form_version: defn.version,
      state: 'draft', data: {}, step_name: null, focus: null, started_at: new Date().toISOString(),
      stamps: [], photos: [], attestations: [] };
    for (const section of defn.sections) {
      for (const field of section.fields) {
        if (field.type === 'repeat' && /member/.test(field.name)) draft.data[field.name] = prefillMembers(field, household);
      }
    }
  }
  appState.isFormOpen = true;
  const review = { name: '__review', label: t('survey.review'), fields: [] };
  let errors = {};
  let calc = computeAll(defn, draft.data, context);
  // Skip logic at section level too (self-care only for extreme poverty, 001).
  const steps = () => [...defn.sections.filter((s) => relevant(s, calc.values, null)), review];
  const stepIndex = () => Math.max(0, steps().findIndex((s) => s.name === draft.step_name));

  async function save() {
    draft.updated_at = new Date().toISOString();
    await store.put('drafts', draft);
  }

  function setAnswer(path, value) {
    const [group, index, name] = path.split('.');
    if (name !== undefined) draft.data[group][Number(index)][name] = value;
    else draft.data[path] = value;
    // Signatures cover exact answers: any change after signing needs new signatures.
    if (draft.attestations.length) draft.attestations = [];
    calc = computeAll(defn, draft.data, context);
    delete errors[errorPath(path)];
  }
  const errorPath = (path) => path.replace(/^(\w+)\.(\d+)\.(\w+)$/, '$1[$2].$3');

  function input(field, path, value) {
    const common = { id: `f-${path}`, name: path, dataset: { path } };
    const onChange = (read) => async (event) => {
      setAnswer(path, read(event.target));
      draft.focus = path;
      await save();
      if (event.type === 'change') draw();
      else showComputed();
    };
    const numeric = ['integer', 'decimal', 'money'].includes(field.type);
    switch (field.type) {
      case 'select_one':
        return h('select', { ...common, onchange: onChange((el) => el.value || null) },
          h('option', { value: '' }, '—'),
          (field.choices ?? []).map((c) => h('option', { value: c.value, selected: c.value === value }, label(c.label))));
      case 'select_many':
        return h('div', { ...common, role: 'group' }, (field.choices ?? []).map((c) => h('label', { class: 'choice' },
          h('input', { type: 'checkbox', value: c.value, checked: (value ?? []).includes(c.value),
            onchange: onChange((el) => Array.from(el.closest('[role=group]').querySelectorAll('input:checked'), (x) => x.value)) }),
          label(c.label))));
      case 'yes_no':
        return h('div', { ...common, role: 'radiogroup' }, [[true, '是 / Yes'], [false, '否 / No']].map(([v, text]) => h('label', { class: 'choice' },
          h('input', { type: 'radio', name: path, value: String(v), checked: value === v,
            onchange: onChange((el) => el.value === 'true') }), text)));
      case 'date':
        return h('input', { ...common, type: 'date', value: value ?? '', onchange: onChange((el) => el.value || null) });
      case 'photo':
        return photoInput(field, path, value);
      case 'geopoint':
        return h('div', {}, h('button', { ...common, class: 'btn', type: 'button', onclick: async (event) => {
          const fix = await position().catch((error) => { toast(t(GPS_ERROR[error.code] ?? 'survey.gps_unavailable'), 'error'); return null; });
          if (!fix) return;
          setAnswer(path, { lat: fix.lat, lon: fix.lon, accuracy: fix.accuracy_m });
          await save();
          draw();
          void event;
        } }, value ? t('survey.gps_retry') : t('survey.gps_take')), value ? h('p', { class: 'hint' },
          t('survey.gps_ok', { lat: value.lat.toFixed(5), lon: value.lon.toFixed(5), acc: value.accuracy })) : null);
      default:
        return h('input', { ...common, type: numeric ? 'number' : 'text', value: value ?? '',
          inputmode: field.type === 'integer' ? 'numeric' : numeric ? 'decimal' : undefined,
          step: field.type === 'integer' ? '1' : numeric ? 'any' : undefined,
          oninput: onChange((el) => readValue(field, el.value)), onchange: onChange((el) => readValue(field, el.value)) });
    }
  }
  function readValue(field, text) {
    if (text === '') return null;
    if (['integer', 'decimal', 'money'].includes(field.type)) return Number.isNaN(Number(text)) ? text : Number(text);
    return text;
  }

  function photoInput(field, path, value) {
    const thumbs = h('div', { class: 'thumbs' });
    if (value) thumbnailUrl(value).then((url) => url && thumbs.append(h('img', { src: url, alt: '' })));
    return h('div', {}, h('label', { class: 'btn' }, t('survey.take_photo'),
      h('input', { type: 'file', accept: 'image/*', capture: 'environment', hidden: true, dataset: { path },
        onchange: async (event) => {
          const file = event.target.files[0];
          if (!file) return;
          const meta = await takePhoto(file, path);
          setAnswer(path, meta.sha256);
          await save();
          draw();
        } })), thumbs);
  }

  async function takePhoto(file, fieldPath) {
    toast(t('survey.photo_processing'));
    const last = draft.stamps.at(-1);
    const meta = await addPhoto(file, { field: fieldPath ? errorPath(fieldPath) : null, fallbackPosition: last });
    draft.photos = [...draft.photos.filter((p) => p.sha256 !== meta.sha256), meta];
    if (draft.attestations.length) draft.attestations = [];
    if (meta.lat === null) toast(t('survey.photo_no_gps'));
    return meta;
  }

  function fieldBlock(field, path, entry) {
    if (!relevant(field, calc.values, entry)) return null;
    const value = path.includes('.') ? entry?.[field.name] : draft.data[field.name];
    const error = errors[errorPath(path)];
    if (field.type === 'note') return h('p', { class: 'notice' }, label(field.label));
    if (field.type === 'calculate') {
      const shown = calc.computed[errorPath(path)];
      return h('p', { class: 'calc', id: `calc-${path}`, dataset: { calc: errorPath(path) } },
        label(field.label), '：', shown ?? '—');
    }
    if (field.type === 'repeat') return repeatBlock(field);
    const required = field.required === true;
    return h('div', { class: `field${error ? ' has-error' : ''}`, dataset: { field: path } },
      h('label', { for: `f-${path}` }, label(field.label), required ? h('span', { class: 'hint' }, ` (${t('survey.required')})`) : null),
      field.hint ? h('p', { class: 'hint' }, label(field.hint)) : null,
      input(field, path, value),
      h('p', { class: 'field-error', id: `err-${path}` }, error ? [].concat(error).join('；') : ''));
  }

  function repeatBlock(group) {
    const entries = draft.data[group.name] ?? [];
    draft.data[group.name] = entries;
    return h('section', { dataset: { repeat: group.name } }, h('h2', {}, label(group.label)),
      entries.map((entry, index) => h('div', { class: 'repeat', dataset: { index } },
        h('h3', {}, t('survey.member', { n: index + 1 }), entry.name ? ` · ${entry.name}` : ''),
        (group.fields ?? []).map((f) => fieldBlock(f, `${group.name}.${index}.${f.name}`,
          calc.values[group.name]?.[index] ?? entry)),
        h('button', { class: 'btn btn-danger', type: 'button', onclick: async () => {
          entries.splice(index, 1); setAnswer(group.name, entries); await save(); draw();
        } }, t('survey.remove_member')))),
      h('button', { class: 'btn btn-block', type: 'button', id: `add-${group.name}`, onclick: async () => {
        entries.push({}); setAnswer(group.name, entries); await save(); draw();
      } }, t('survey.add_member')));
  }

  function showComputed() {
    for (const element of root.querySelectorAll('[data-calc]')) {
      const text = element.firstChild?.textContent ?? '';
      element.replaceChildren(text, '：', String(calc.computed[element.dataset.calc] ?? '—'));
    }
  }

  function sectionErrors(section) {
    const names = new Set(section.fields.map((f) => f.name));
    return Object.keys(errors).filter((path) => names.has(path.split(/[[.]/)[0]));
  }

  async function go(step) {
    if (step > stepIndex()) {
      ({ errors } = validateAll(defn, draft.data, context));
      const bad = sectionErrors(steps()[stepIndex()]);
      if (bad.length) { draw(); toast(t('survey.fix_errors', { count: bad.length }), 'error'); return; }
    }
    draft.step_name = steps()[step].name;
    draft.focus = null;
    await save();
    draw();
    window.scrollTo(0, 0);
  }

  function stampBlock(kind) {
    const stamp = draft.stamps.find((s) => s.kind === kind);
    const message = h('p', { class: 'hint', id: `gps-${kind}` }, stamp
      ? t('survey.gps_ok', { lat: stamp.lat.toFixed(5), lon: stamp.lon.toFixed(5), acc: stamp.accuracy_m }) : '');
    const button = h('button', { class: 'btn', type: 'button', id: `gps-${kind}-take`, onclick: async () => {
      button.disabled = true;
      try {
        const fix = await position();
        draft.stamps = [...draft.stamps.filter((s) => s.kind !== kind),
          { kind, ...fix, user_id: session.user()?.id }];
        if (draft.attestations.length) draft.attestations = [];
        await save();
        draw();
      } catch (error) {
        message.textContent = t(GPS_ERROR[error.code] ?? 'survey.gps_unavailable');
        message.className = 'form-error';
        button.textContent = t('survey.gps_retry');
        button.disabled = false;
      }
    } }, stamp ? t('survey.gps_retry') : t('survey.gps_take'));
    return h('div', { class: 'field' }, h('label', {}, t(kind === 'start' ? 'survey.gps_start' : 'survey.gps_end')), button, message);
  }

  function submissionContent() {
    return { id: draft.id, case_id: draft.case_id, form_id: draft.form_id, form_version: draft.form_version,
      data: draft.data, stamps: draft.stamps, photos: draft.photos };
  }

  async function signerBlock() {
    const people = await store.all('keys');
    const signed = new Set(draft.attestations.map((a) => a.user_id));
    const waiting = people.filter((p) => !signed.has(p.user_id));
    const canvas = h('canvas', { class: 'sig', id: 'sig-canvas', width: 640, height: 360 });
    let hasInk = false;
    const pen = canvas.getContext('2d');
    pen.lineWidth = 4; pen.lineCap = 'round'; pen.strokeStyle = '#000';
    let drawing = false;
    const at = (event) => { const r = canvas.getBoundingClientRect();
      return [(event.clientX - r.left) * canvas.width / r.width, (event.clientY - r.top) * canvas.height / r.height]; };
    canvas.addEventListener('pointerdown', (e) => { drawing = true; canvas.setPointerCapture?.(e.pointerId); pen.beginPath(); pen.moveTo(...at(e)); });
    canvas.addEventListener('pointermove', (e) => { if (!drawing) return; pen.lineTo(...at(e)); pen.stroke(); hasInk = true; });
    canvas.addEventListener('pointerup', () => { drawing = false; });
    const signer = h('select', { id: 'signer' }, waiting.map((p) => h('option', { value: p.user_id }, p.display_name)));
    const pin = h('input', { id: 'sign-pin', type: 'password', inputmode: 'numeric', maxlength: 6, autocomplete: 'off', 'aria-label': t('pin.enter') });
    const error = h('p', { class: 'form-error', id: 'sign-error', role: 'alert' });
    const sign = h('button', { class: 'btn btn-primary btn-block', type: 'button', id: 'sign', onclick: async () => {
      error.textContent = '';
      if (!hasInk) { error.textContent = t('survey.need_signature'); return; }
      sign.disabled = true;
      try {
        const userId = signer.value;
        const privateKey = await keys.unlock(userId, pin.value);
        const png = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/png'); });
        const imageSha = await addImageBlob(png);
        const signature = await keys.sign(privateKey, attestationMessage(await submissionDigest(submissionContent())));
        const record = await keys.keyFor(userId);
        draft.attestations = [...draft.attestations, { user_id: userId, key_id: record.key_id,
          signature, signature_image_sha256: imageSha, signed_at: new Date().toISOString() }];
        await save();
        draw();
      } catch (failure) {
        error.textContent = failure instanceof keys.WrongPin ? t('pin.wrong') : problemText(failure);
        sign.disabled = false;
      }
    } }, t('survey.sign'));
    const names = new Map(people.map((p) => [p.user_id, p.display_name]));
    return h('section', { id: 'attest' }, h('h2', {}, t('survey.attest')), h('p', { class: 'hint' }, t('survey.attest_why')),
      h('ul', { class: 'members', id: 'signed-list' }, draft.attestations.map((a) =>
        h('li', { class: 'status-accepted' }, t('survey.signed_by', { name: names.get(a.user_id) ?? a.user_id })))),
      waiting.length && draft.attestations.length < signersNeeded ? h('div', { class: 'card stack' },
        h('label', { for: 'signer' }, t('survey.signer')), signer,
        h('p', { class: 'hint' }, t('survey.draw_signature')), canvas,
        h('button', { class: 'btn', type: 'button', onclick: () => { pen.clearRect(0, 0, canvas.width, canvas.height); hasInk = false; } }, t('survey.clear_signature')),
        h('label', { for: 'sign-pin' }, t('pin.enter')), pin, error, sign) : null,
      people.length < signersNeeded ? h('p', { class: 'warn' }, t('survey.need_two', { n: signersNeeded }), ' ', h('a', { href: '#/add-investigator' }, t('settings.add_investigator'))) : null);
  }

  async function submit() {
    ({ errors } = validateAll(defn, draft.data, context));
    const count = Object.keys(errors).length;
    if (count) { toast(t('survey.fix_errors', { count }), 'error'); draw(); return; }
    if (!draft.stamps.some((s) => s.kind === 'start') || !draft.stamps.some((s) => s.kind === 'end')) {
      toast(t('survey.need_gps'), 'error'); return;
    }
    if (new Set(draft.attestations.map((a) => a.user_id)).size < signersNeeded) { toast(t('survey.need_two', { n: signersNeeded }), 'error'); return; }
    const ended = draft.stamps.find((s) => s.kind === 'end').captured_at;
    const record = { type: 'visit_submission', ...submissionContent(), base_revision: draft.base_revision ?? null,
      started_at: draft.started_at, ended_at: ended, captured_at: new Date().toISOString(),
      attestations: draft.attestations };
    draft.state = 'queued';
    await save();
    await outbox.enqueue(record);
    appState.isFormOpen = false;
    toast(t('survey.queued'));
    navigate('outbox');
  }

  async function draw() {
    const focusPath = draft.focus;
    const all = steps();
    const current = stepIndex();
    const step = all[current];
    const isReview = step.name === '__review';
    const body = isReview
      ? [stampBlock('start'), stampBlock('end'),
        h('h2', {}, t('survey.photos')),
        h('label', { class: 'btn btn-block' }, t('survey.take_photo'), h('input', { type: 'file', id: 'visit-photo',
          accept: 'image/*', capture: 'environment', multiple: true, hidden: true, onchange: async (event) => {
            for (const file of event.target.files) await takePhoto(file, null);
            await save(); draw();
          } })),
        h('div', { class: 'thumbs', id: 'photo-thumbs' }),
        await signerBlock()]
      : step.fields.map((f) => fieldBlock(f, f.name, null));
    clear(root).append(
      h('a', { class: 'back', href: `#/case/${item.id}` }, `‹ ${household.head_name ?? ''}`),
      h('nav', { class: 'steps', 'aria-label': t('survey.title') }, all.map((s, i) => h('button', {
        type: 'button', 'aria-current': i === current ? 'step' : undefined, onclick: () => go(i) }, `${i + 1}. ${label(s.label)}`))),
      h('h1', { id: 'section-title', dataset: { section: step.name } }, label(step.label)),
      ...body,
      h('div', { class: 'actions' },
        current > 0 ? h('button', { class: 'btn', type: 'button', id: 'prev', onclick: () => go(current - 1) }, t('survey.prev')) : null,
        isReview ? h('button', { class: 'btn btn-primary', type: 'button', id: 'submit', onclick: submit }, t('survey.submit'))
          : h('button', { class: 'btn btn-primary', type: 'button', id: 'next', onclick: () => go(current + 1) }, t('survey.next'))));
    if (isReview) {
      const thumbs = root.querySelector('#photo-thumbs');
      for (const photo of draft.photos) {
        const url = await thumbnailUrl(photo.sha256);
        if (url) thumbs.append(h('img', { src: url, alt: '', dataset: { sha: photo.sha256 } }));
      }
    }
    if (focusPath) root.querySelector(`[data-path="${CSS.escape(focusPath)}"]`)?.focus();
    root.dataset.ready = 'true';
  }

  // The start stamp is taken as the survey opens: it records arrival at the home.
  if (!draft.stamps.some((s) => s.kind === 'start')) {
    position().then(async (fix) => {
      if (draft.stamps.some((s) => s.kind === 'start')) return;
      draft.stamps = [...draft.stamps, { kind: 'start', ...fix, user_id: session.user()?.id }];
      await save();
      if (draft.step_name === '__review') draw();
    }).catch(() => { /* shown with a retry button on the review step */ });
  }
  await save();
  await draw();
  return () => { appState.isFormOpen = false; };
}
