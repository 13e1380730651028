// Field widgets rendered from a form definition: one input per field type, the label, hint
// and error around it, repeat groups (household members) and calculated values. Shared by
// the home-visit survey and the recipient check-in.
//
// A widget never owns the answers. It reads and writes through a `form` object:
//   form.data                     the answers (a repeat is an array of entry objects)
//   form.values, form.computed    what the rules see (hidden answers cleared) and calculations
//   form.errors                   {error path: message(s)} from the last validation
//   form.relevant(item, values, entry)   skip logic
//   form.answer(path, value, {redraw, focus})   record a change, save, redraw or refresh
//   form.photo(file, path)        store a camera file, resolve with its sha256
//   form.locate()                 one GPS fix ({lat, lon, accuracy_m}); rejects like geolocation
import { h, toast } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { thumbnailUrl } from '../photos.js';
import { gpsErrorKey, fixWords } from '../device/geolocation.js';
import { cameraButton } from '../device/camera.js';

/** A label in the user's language (definitions carry {"zh-CN": ..., "en": ...}). */
export const label = (text) => (typeof text === 'string' ? text : text?.[getLang()] ?? text?.['zh-CN'] ?? '');

/** "members.0.income" (a DOM path) as the rules name it: "members[0].income". */
export const errorPath = (path) => path.replace(/^(\w+)\.(\d+)\.(\w+)$/, '$1[$2].$3');

const NUMERIC = ['integer', 'decimal', 'money'];

/** The typed value of a text or number input (numbers stay text when they do not parse). */
export function readValue(field, text) {
  if (text === '') return null;
  if (NUMERIC.includes(field.type)) return Number.isNaN(Number(text)) ? text : Number(text);
  return text;
}

/** The input element(s) for one field at `path` holding `value`. */
export function fieldInput(form, field, path, value) {
  const common = { id: `f-${path}`, name: path, dataset: { path } };
  const onChange = (read) => (event) => form.answer(path, read(event.target),
    { focus: true, redraw: event.type === 'change' });
  const numeric = NUMERIC.includes(field.type);
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
      return h('div', { ...common, role: 'radiogroup' }, [[true, t('choice.yes')], [false, t('choice.no')]].map(([v, text]) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: path, value: String(v), checked: value === v,
          onchange: onChange((el) => el.value === 'true') }), text)));
    case 'date':
      return h('input', { ...common, type: 'date', value: value ?? '', onchange: onChange((el) => el.value || null) });
    case 'photo':
      return photoInput(form, path, value);
    case 'geopoint':
      return geopointInput(form, common, path, value);
    default:
      return h('input', { ...common, type: numeric ? 'number' : 'text', value: value ?? '',
        inputmode: field.type === 'integer' ? 'numeric' : numeric ? 'decimal' : undefined,
        step: field.type === 'integer' ? '1' : numeric ? 'any' : undefined,
        oninput: onChange((el) => readValue(field, el.value)), onchange: onChange((el) => readValue(field, el.value)) });
  }
}

function geopointInput(form, common, path, value) {
  return h('div', {}, h('button', { ...common, class: 'btn', type: 'button', onclick: async () => {
    const fix = await form.locate().catch((error) => { toast(t(gpsErrorKey(error)), 'error'); return null; });
    if (!fix) return;
    await form.answer(path, { lat: fix.lat, lon: fix.lon, accuracy: fix.accuracy_m }, { redraw: true });
  } }, value ? t('survey.gps_retake') : t('survey.gps_take')), value ? h('p', { class: 'hint' },
    t('survey.gps_ok', fixWords(value, 'accuracy'))) : null);
}

function photoInput(form, path, value) {
  const thumbs = h('div', { class: 'thumbs', dataset: { thumbsOf: path } });
  // A draw may have kept the thumbs on screen.
  if (value) {
    thumbnailUrl(value).then((url) => url && (thumbs.isConnected ? thumbs
      : document.querySelector(`[data-thumbs-of="${CSS.escape(path)}"]`) ?? thumbs).replaceChildren(h('img', { src: url, alt: '' })));
  }
  return h('div', {}, cameraButton({ dataset: { path }, onFiles: async ([file]) => {
    await form.answer(path, await form.photo(file, path), { redraw: true });
  } }), thumbs);
}

/** A field with its label, hint, input and error line; null when skip logic hides it. */
export function fieldBlock(form, field, path, entry) {
  if (!form.relevant(field, form.values, entry)) return null;
  const value = path.includes('.') ? entry?.[field.name] : form.data[field.name];
  const error = form.errors[errorPath(path)];
  if (field.type === 'note') return h('p', { class: 'notice' }, label(field.label));
  if (field.type === 'calculate') {
    const shown = form.computed[errorPath(path)];
    return h('p', { class: 'calc', id: `calc-${path}`, dataset: { calc: errorPath(path) } },
      label(field.label), '：', shown ?? '—');
  }
  if (field.type === 'repeat') return repeatBlock(form, field);
  const required = field.required === true;
  return h('div', { class: `field${error ? ' has-error' : ''}`, dataset: { field: path } },
    h('label', { for: `f-${path}` }, label(field.label), required ? h('span', { class: 'hint' }, ` (${t('survey.required')})`) : null),
    field.hint ? h('p', { class: 'hint' }, label(field.hint)) : null,
    fieldInput(form, field, path, value),
    h('p', { class: 'field-error', id: `err-${path}` }, error ? [].concat(error).join('；') : ''));
}

/** A repeat group: one card per entry with its fields, remove and add buttons. */
export function repeatBlock(form, group) {
  const entries = form.data[group.name] ?? [];
  form.data[group.name] = entries;
  return h('section', { dataset: { repeat: group.name } }, h('h2', {}, label(group.label)),
    entries.map((entry, index) => h('div', { class: 'repeat', dataset: { index } },
      h('h3', {}, t('survey.member', { n: index + 1 }), entry.name ? ` · ${entry.name}` : ''),
      entry.registered_member_id ? memberCheck(form, group, index, entry) : null,
      (group.fields ?? []).map((f) => fieldBlock(form, f, `${group.name}.${index}.${f.name}`,
        form.values[group.name]?.[index] ?? entry)),
      h('button', { class: 'btn btn-danger', type: 'button', onclick: () => {
        entries.splice(index, 1);
        return form.answer(group.name, entries, { redraw: true });
      } }, t('survey.remove_member')))),
    h('button', { class: 'btn btn-block', type: 'button', id: `add-${group.name}`, onclick: () => {
      entries.push({});
      return form.answer(group.name, entries, { redraw: true });
    } }, t('survey.add_member')));
}

/** A registered member: confirm them on site; a masked ID stays unless it changed. */
function memberCheck(form, group, index, entry) {
  const path = `${group.name}.${index}.confirmed_on_site`;
  const masked = typeof entry.id_number === 'string' && entry.id_number.includes('*');
  return h('div', { class: 'field member-check', dataset: { field: path } },
    h('label', { class: 'choice' }, h('input', { type: 'checkbox', id: `f-${path}`, checked: entry.confirmed_on_site === true,
      dataset: { path }, onchange: (event) => form.answer(path, event.target.checked, { redraw: true }) }),
    t('survey.member_confirm')),
    masked ? h('p', { class: 'hint' }, t('survey.member_id_masked')) : null);
}

/** Refresh calculated values in place (while typing, without re-rendering the inputs). */
export function showComputed(root, computed) {
  for (const element of root.querySelectorAll('[data-calc]')) {
    const text = element.firstChild?.textContent ?? '';
    element.replaceChildren(text, '：', String(computed[element.dataset.calc] ?? '—'));
  }
}

/** The error paths that belong to the fields of `section`. */
export function sectionErrors(section, errors) {
  const names = new Set(section.fields.map((f) => f.name));
  return Object.keys(errors).filter((path) => names.has(path.split(/[[.]/)[0]));
}

/**
 * A GPS stamp ("start" or "end"): the fix taken so far and a button to take (or retake)
 * it. `take()` gets a fix and stores it (then redraws); a failure is explained in place.
 */
export function gpsStampBlock(kind, stamp, take) {
  const message = h('p', { class: 'hint', id: `gps-${kind}` }, stamp ? t('survey.gps_ok', fixWords(stamp)) : '');
  const button = h('button', { class: 'btn', type: 'button', id: `gps-${kind}-take`, onclick: async (event) => {
    const pressed = event.currentTarget;
    pressed.disabled = true;
    try {
      await take();
    } catch (error) {
      const shown = document.getElementById(`gps-${kind}`);
      if (shown) { shown.textContent = t(gpsErrorKey(error)); shown.className = 'form-error'; }
      pressed.textContent = t('survey.gps_retry');
      pressed.disabled = false;
    }
  } }, stamp ? t('survey.gps_retake') : t('survey.gps_take'));
  return h('div', { class: 'field', dataset: { key: `gps-${kind}` } },
    h('label', {}, t(kind === 'start' ? 'survey.gps_start' : 'survey.gps_end')), button, message);
}
