// The home-visit survey, rendered from the form definition the pull delivered.
// Sections are steps; the last step takes the end GPS stamp and both investigators'
// signatures. Every change is saved to a draft in IndexedDB at once, and reopening
// returns to the same section and field. The widgets (fields, signature, camera, GPS) are
// shared with the recipient check-in; this module only composes them around a draft.
import { h, clear, toast, uuid } from '../dom.js';
import { screen } from '../render.js';
import { t } from '../i18n.js';
import * as store from '../store.js';
import * as session from '../session.js';
import * as outbox from '../outbox.js';
import { thumbnailUrl } from '../photos.js';
import { appState } from '../app.js';
import { position } from '../device/geolocation.js';
import { cameraButton, capturePhoto } from '../device/camera.js';
import {
  fieldBlock, errorPath, gpsStampBlock, label, sectionErrors, showComputed,
} from '../widgets/fields.js';
import { attestationBlock } from '../widgets/signature.js';
import { domPath, reviewedAnswers, startOf } from '../domain/review-tasks.js';

/**
 * form.js (skip logic, calculations and checks, shared with the server's rules). Without it
 * the answers cannot be checked, so a failed load is shown and blocks submission: the
 * promise resolves to {logic} or {error}, and a failure is not cached so a retry can load it.
 */
let loading = null;
function loadLogic() {
  loading ??= import('../domain/form.js').then((logic) => ({ logic }), (error) => {
    console.error('form.js failed to load', error);
    loading = null;
    return { error };
  });
  return loading;
}

async function latestForm(visit) {
  const forms = await store.all('forms');
  const exact = visit && forms.find((f) => f.form_id === visit.form_id && f.version === visit.form_version);
  if (exact) return exact;
  return forms.filter((f) => f.form_id === 'household_survey').sort((a, b) => b.version - a.version)[0]
    ?? forms.sort((a, b) => b.version - a.version)[0];
}

/**
 * Repeat entries prefilled from the household's registered members: name, relation and
 * the ID as this role sees it (masked for field workers). A masked ID sent back unchanged
 * means "as registered"; the worker types a full number only when it changed, and
 * confirms each registered member on site (`confirmed_on_site`).
 */
export function prefillMembers(group, household) {
  const names = new Set((group.fields ?? []).map((f) => f.name));
  return (household.members ?? []).map((member) => ({
    ...Object.fromEntries(Object.entries(member).filter(([k, v]) => names.has(k) && v != null)),
    registered_member_id: member.id ?? null, confirmed_on_site: false }));
}

/** Registered members of `section`'s repeats not yet confirmed on site: "members.0"… */
export function unconfirmedMembers(section, data) {
  return (section.fields ?? []).filter((f) => f.type === 'repeat').flatMap((group) =>
    (data[group.name] ?? []).map((entry, index) => (entry.registered_member_id && entry.confirmed_on_site !== true
      ? `${group.name}.${index}` : null)).filter(Boolean));
}

function newDraft(item, defn, household) {
  const draft = { id: uuid(), case_id: item.id, form_id: defn.form_id, form_version: defn.version,
    state: 'draft', data: {}, step_name: null, focus: null, started_at: new Date().toISOString(),
    stamps: [], photos: [], attestations: [] };
  for (const section of defn.sections) {
    for (const field of section.fields) {
      if (field.type === 'repeat' && /member/.test(field.name)) draft.data[field.name] = prefillMembers(field, household);
    }
  }
  return draft;
}

/**
 * A visit a reviewer sent back with issues: the same submission (same id) prefilled with the
 * reviewed revision's answers, stamps and photos, pushed as its next revision
 * (`base_revision`). Both investigators sign again: the signatures cover the new answers.
 */
function taskDraft(task, defn, outboxEntry) {
  const visit = reviewedAnswers(task, outboxEntry);
  return { id: task.submission_id, case_id: task.case_id, form_id: visit.form_id, form_version: visit.form_version,
    state: 'draft', data: visit.data, ...startOf(task, defn),
    started_at: visit.stamps.find((s) => s.kind === 'start')?.captured_at ?? new Date().toISOString(),
    stamps: visit.stamps, photos: visit.photos, attestations: [],
    base_revision: task.revision, review_comments: task.comments ?? [] };
}

/** The reviewer's words beside each commented field, and on the visit at the top. */
function showComments(root, comments) {
  for (const comment of comments.filter((c) => c.field)) {
    const path = domPath(comment.field);
    const block = root.querySelector(`[data-field="${CSS.escape(path)}"]`)
      ?? root.querySelector(`[data-repeat="${CSS.escape(path)}"]`);
    block?.classList.add('has-comment');
    block?.append(h('p', { class: 'review-comment', dataset: { commentFor: comment.field } },
      h('strong', {}, `${t('task.reviewer_says')} `), comment.text));
  }
}

/** An alert that stays on every step while the form logic is missing. */
function loadErrorBlock() {
  return h('div', { class: 'card stack', id: 'module-error', role: 'alert' },
    h('p', { class: 'form-error' }, t('survey.logic_failed')),
    h('button', { class: 'btn', type: 'button', id: 'module-retry', onclick: () => location.reload() }, t('app.retry_load')));
}

export async function render(root, { params, navigate }) {
  const { logic, error: loadError } = await loadLogic();
  const item = await store.get('cases', params[0]);
  const task = params[1] ? await store.get('review_tasks', params[1]) : null;
  const defn = await latestForm(task?.visit);
  if (!item || !defn || (params[1] && !task?.visit)) {
    const why = !item ? t('case.missing') : !defn ? t('survey.no_form') : t('task.no_answers');
    clear(root).append(h('p', { class: 'empty', id: 'no-form' }, why),
      h('a', { class: 'btn', href: '#/cases' }, t('nav.back')));
    return undefined;
  }
  const household = (await store.get('households', item.household_id)) ?? item.household ?? {};
  const context = { case_kind: item.kind };
  // The village's min_visit_team_size (004: at least 2); every one of them signs.
  const signersNeeded = (await store.get('settings', item.jurisdiction_code))?.min_visit_team_size ?? 2;
  const held = task ? await store.get('drafts', task.submission_id) : null;
  const draft = task ? (held?.state === 'draft' && held.base_revision === task.revision ? held
    : taskDraft(task, defn, await store.get('outbox', task.submission_id)))
    : (await store.allByIndex('drafts', 'case_id', item.id)).find((d) => d.state === 'draft' && !d.base_revision)
      ?? newDraft(item, defn, household);
  const comments = draft.review_comments ?? [];
  appState.isFormOpen = true;
  const relevant = (it, values, entry) => (logic ? logic.isRelevant(it, values, entry) : true);
  /** {values, computed}: values as the rules see them (hidden answers cleared, context merged). */
  const computeAll = () => {
    const result = logic ? logic.computeCalculations(defn, draft.data, context) : null;
    return { values: { ...(result?.values ?? draft.data), ...context }, computed: result?.computed ?? {} };
  };
  const validateAll = () => (logic ? logic.validateForm(defn, draft.data, context) : { errors: {} });

  const view = screen(root);
  const review = { name: '__review', label: t('survey.review'), fields: [] };
  let errors = {};
  let calc = computeAll();
  // Skip logic at section level too (self-care only for extreme poverty, 001).
  const steps = () => [...defn.sections.filter((s) => relevant(s, calc.values, null)), review];
  const stepIndex = () => Math.max(0, steps().findIndex((s) => s.name === draft.step_name));

  // In order; a draw waits for the saves before it.
  let saving = Promise.resolve();
  function save() {
    saving = saving.catch(() => {}).then(() => {
      draft.updated_at = new Date().toISOString();
      return store.put('drafts', draft);
    });
    return saving;
  }
  // Signatures cover exact answers: any change after signing needs new signatures.
  const unsign = () => { if (draft.attestations.length) draft.attestations = []; };

  function setAnswer(path, value) {
    const [group, index, name] = path.split('.');
    if (name !== undefined) draft.data[group][Number(index)][name] = value;
    else draft.data[path] = value;
    unsign();
    calc = computeAll();
    delete errors[errorPath(path)];
  }

  async function takePhoto(file, fieldPath) {
    const meta = await capturePhoto(file, { field: fieldPath ? errorPath(fieldPath) : null,
      lastFix: draft.stamps.at(-1) });
    draft.photos = [...draft.photos.filter((p) => p.sha256 !== meta.sha256), meta];
    unsign();
    return meta;
  }

  /** What the field widgets read and write (see widgets/fields.js). */
  const form = {
    get data() { return draft.data; },
    get values() { return calc.values; },
    get computed() { return calc.computed; },
    get errors() { return errors; },
    relevant,
    locate: () => view.work(() => position()),
    photo: (file, path) => view.work(async () => (await takePhoto(file, path)).sha256),
    answer: (path, value, { focus = false, redraw = false } = {}) => view.work(async () => {
      setAnswer(path, value);
      if (focus) draft.focus = path;
      await save();
      if (redraw && shapeOf() !== shown) draw(); else showComputed(root, calc.computed);
    }),
  };

  /** What an answer can change on screen besides its own control. */
  function shapeOf() {
    const step = steps()[stepIndex()];
    const parts = [steps().map((s) => s.name), step.name];
    const walk = (fields, prefix, entry) => {
      for (const field of fields ?? []) {
        if (!relevant(field, calc.values, entry)) continue;
        if (field.type === 'repeat') {
          const entries = draft.data[field.name] ?? [];
          parts.push(`${field.name}:${entries.length}`);
          entries.forEach((item, index) => {
            parts.push(item.name ?? '');
            walk(field.fields, `${field.name}.${index}.`, calc.values[field.name]?.[index] ?? item);
          });
        } else {
          const value = entry ? entry[field.name] : draft.data[field.name];
          parts.push(prefix + field.name, ['photo', 'geopoint'].includes(field.type) ? value ?? null : '');
        }
      }
    };
    walk(step.fields, '', null);
    return JSON.stringify([parts, calc.computed, errors, draft.stamps, draft.photos.map((p) => p.sha256),
      draft.attestations.map((a) => a.user_id)]);
  }
  let shown = null;

  const go = (step) => view.work(() => goTo(step));
  async function goTo(step) {
    if (step > stepIndex()) {
      ({ errors } = validateAll());
      const bad = sectionErrors(steps()[stepIndex()], errors);
      if (bad.length) { draw(); toast(t('survey.fix_errors', { count: bad.length }), 'error'); return; }
      const unconfirmed = unconfirmedMembers(steps()[stepIndex()], draft.data);
      if (unconfirmed.length) {
        draw();
        toast(t('survey.confirm_members', { count: unconfirmed.length }), 'error');
        return;
      }
    }
    draft.step_name = steps()[step].name;
    draft.focus = null;
    await save();
    await draw();
    window.scrollTo(0, 0);
  }

  function stampBlock(kind) {
    return gpsStampBlock(kind, draft.stamps.find((s) => s.kind === kind), () => view.work(async () => {
      const fix = await position();
      draft.stamps = [...draft.stamps.filter((s) => s.kind !== kind),
        { kind, ...fix, user_id: session.user()?.id }];
      unsign();
      await save();
      await draw();
    }));
  }

  function submissionContent() {
    return { id: draft.id, case_id: draft.case_id, form_id: draft.form_id, form_version: draft.form_version,
      data: draft.data, stamps: draft.stamps, photos: draft.photos };
  }

  async function submit() {
    if (loadError) { toast(t('survey.logic_failed'), 'error'); return; }
    ({ errors } = validateAll());
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
    toast(t('survey.queued'), 'info', { key: outbox.QUEUED_TOAST });
    await outbox.enqueue(record);
    appState.isFormOpen = false;
    navigate('outbox');
  }

  async function reviewBody() {
    const thumbs = await Promise.all(draft.photos.map(async (photo) => {
      const url = await thumbnailUrl(photo.sha256);
      return url ? h('img', { src: url, alt: '', dataset: { sha: photo.sha256 } }) : null;
    }));
    return [stampBlock('start'), stampBlock('end'),
      h('h2', {}, t('survey.photos')),
      cameraButton({ className: 'btn btn-block', id: 'visit-photo', multiple: true, onFiles: (files) => view.work(async () => {
        for (const file of files) await takePhoto(file, null);
        await save(); draw();
      }) }),
      h('div', { class: 'thumbs', id: 'photo-thumbs' }, thumbs),
      await attestationBlock({ attestations: draft.attestations, content: submissionContent, needed: signersNeeded,
        onSigned: (attestation) => view.work(async () => {
          draft.attestations = [...draft.attestations, attestation];
          await save();
          draw();
        }) })];
  }

  async function build() {
    await saving.catch(() => {});
    const all = steps();
    const current = stepIndex();
    const step = all[current];
    const isReview = step.name === '__review';
    shown = shapeOf();
    const body = isReview ? await reviewBody() : step.fields.map((f) => fieldBlock(form, f, f.name, null));
    const section = h('div', {},
      h('a', { class: 'back', href: `#/case/${item.id}` }, `‹ ${household.head_name ?? ''}`),
      loadError ? loadErrorBlock() : null,
      h('nav', { class: 'steps', 'aria-label': t('survey.title') }, all.map((s, i) => h('button', {
        type: 'button', 'aria-current': i === current ? 'step' : undefined, dataset: { key: `step-${s.name}` },
        onclick: () => go(i) }, `${i + 1}. ${label(s.label)}`))),
      comments.length ? h('div', { class: 'card review-note', id: 'review-note', role: 'note' },
        h('strong', {}, t('task.sent_back')),
        h('ul', {}, comments.filter((c) => !c.field).map((c) => h('li', {}, c.text)))) : null,
      h('h1', { id: 'section-title', dataset: { section: step.name } }, label(step.label)),
      ...body,
      h('div', { class: 'actions' },
        current > 0 ? h('button', { class: 'btn', type: 'button', id: 'prev', onclick: () => go(current - 1) }, t('survey.prev')) : null,
        isReview ? h('button', { class: 'btn btn-primary', type: 'button', id: 'submit', disabled: Boolean(loadError), onclick: submit }, t('survey.submit'))
          : h('button', { class: 'btn btn-primary', type: 'button', id: 'next', onclick: () => go(current + 1) }, t('survey.next'))));
    showComments(section, comments);
    return [...section.childNodes];
  }

  let drawnStep;  // the section drawn last (undefined before the first draw)
  // The focus moves only when the section changed.
  function draw() {
    return view.draw(build, { after() {
      if (drawnStep === draft.step_name) return;
      drawnStep = draft.step_name;
      const target = draft.focus && root.querySelector(`[data-path="${CSS.escape(draft.focus)}"]`);
      target?.focus();
      target?.closest('[data-field]')?.scrollIntoView({ block: 'center' });
    } });
  }

  // The start stamp is taken as the survey opens: it records arrival at the home.
  if (!draft.stamps.some((s) => s.kind === 'start')) {
    position().then(async (fix) => {
      if (draft.stamps.some((s) => s.kind === 'start')) return;
      draft.stamps = [...draft.stamps, { kind: 'start', ...fix, user_id: session.user()?.id }];
      await save();
      if (draft.step_name === '__review') await draw();
    }).catch(() => { /* shown with a retry button on the review step */ });
  }
  await save();
  await draw();
  return () => { appState.isFormOpen = false; };
}
