// One case at the desk (#/work-case/<id>): where it stands, who did what, the actions of
// this step for the viewer's roles (each sent with If-Match), its documents (PDF, or the
// printable page shown here) and its timeline. A refused step says what to do next.
import { h, fill } from '../../js/dom.js';
import { actionsFor, bodyFor, documentsFor, explainProblem } from './domain.js';
import {
  prepare, leave, w, roles, day, when, kindWords, statusWords, moveWords, loadWorkflow,
  loadTimeline, perform, fetchDocument, saveBlob, workNav, problemWords,
} from './common.js';
import { dossierPanel, DOSSIER_ROLES } from '../dossier.js';

const fieldId = (action, name) => `wf-f-${action.id}-${name.replace(/\./g, '-')}`;

function actionTitle(action, view) {
  if (action.kind === 'transition') return moveWords(view.status, action.to, view.kind_key);
  if (action.kind === 'task') return w('wf.action.task', { task: w(`wf.task.${action.task}`) });
  return w(`wf.action.${action.kind}`);
}

function fieldLabel(field) {
  if (!field.label) return w(`wf.field.${field.name}`);
  const { role, ...params } = field.label.params;
  return w(field.label.key, role ? { ...params, role: w(`wf.pool_role.${role}`) } : params);
}

/** A signature pad: strokes on a canvas; the PNG (base64) goes into a hidden input. */
function signaturePad(id, common, label, errorId) {
  const hidden = h('input', { ...common, type: 'hidden', value: '' });
  const canvas = h('canvas', { id: `${id}-pad`, class: 'wf-signature', width: 300, height: 90,
    role: 'img', 'aria-label': label });
  const pen = canvas.getContext('2d');
  let last = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (canvas.width / box.width),
      (event.clientY - box.top) * (canvas.height / box.height)];
  };
  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture?.(event.pointerId);
    last = point(event);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    const next = point(event);
    pen.lineWidth = 2;
    pen.lineCap = 'round';
    pen.beginPath();
    pen.moveTo(...last);
    pen.lineTo(...next);
    pen.stroke();
    last = next;
  });
  const finish = () => {
    if (!last) return;
    last = null;
    hidden.value = canvas.toDataURL('image/png').split(',')[1];
  };
  canvas.addEventListener('pointerup', finish);
  canvas.addEventListener('pointerleave', finish);
  const clear = h('button', { type: 'button', class: 'btn', id: `${id}-clear`, onclick: () => {
    pen.clearRect(0, 0, canvas.width, canvas.height);
    hidden.value = '';
  } }, w('wf.signature.clear'));
  return h('div', { class: 'field' }, h('p', { class: 'wf-signature-label' }, label), canvas, clear, hidden,
    h('p', { class: 'field-error', id: errorId }));
}

function fieldControl(action, field) {
  const id = fieldId(action, field.name);
  const errorId = `${id}-error`;
  const common = { id, name: field.name, 'aria-describedby': errorId };
  if (field.type === 'signature') return signaturePad(id, common, fieldLabel(field), errorId);
  if (field.type === 'checkbox') {
    return h('div', { class: 'field' },
      h('label', { class: 'choice', for: id },
        h('input', { ...common, type: 'checkbox', checked: Boolean(field.checked) }), fieldLabel(field)),
      h('p', { class: 'field-error', id: errorId }));
  }
  let control;
  if (field.type === 'select') {
    control = h('select', { ...common, required: field.required || undefined },
      field.options.map((option) => h('option', { value: option, selected: option === (field.value ?? '') },
        option ? w(`wf.option.${option}`) : w('wf.option.empty'))));
  } else if (field.type === 'textarea' || field.type === 'lines') {
    control = h('textarea', { ...common, rows: field.type === 'lines' ? 4 : 3, required: field.required || undefined,
      maxlength: field.max });
    control.value = field.value ?? '';
  } else {
    const type = field.type === 'date' ? 'date' : 'text';
    control = h('input', { ...common, type, value: field.value ?? '', required: field.required || undefined,
      maxlength: field.max, inputmode: field.type === 'money' ? 'decimal' : field.type === 'integer' ? 'numeric' : undefined });
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, fieldLabel(field)), control,
    h('p', { class: 'field-error', id: errorId }));
}

function readValues(form, action) {
  const values = {};
  for (const field of action.fields) {
    const control = form.querySelector(`#${fieldId(action, field.name)}`);
    values[field.name] = field.type === 'checkbox' ? control.checked : control.value;
  }
  return values;
}

function problemBox(explained, error) {
  const items = [];
  if (explained.kind === 'guard') {
    for (const [index, rule] of explained.rules.entries()) {
      const key = `wf.rule.${rule}`;
      const words = w(key);
      items.push(h('li', { dataset: { rule } }, words === key ? (explained.messages[index] ?? rule) : words));
    }
  } else if (explained.kind === 'input') {
    for (const message of explained.messages) items.push(h('li', {}, message));
  } else if (explained.kind === 'duty' && explained.duty && explained.done) {
    items.push(h('li', { dataset: { duty: explained.duty, done: explained.done } },
      w('wf.problem.duty_detail', { done: w(`wf.duty.${explained.done}`), duty: w(`wf.duty.${explained.duty}`) })));
  }
  const lead = {
    stale: () => w('wf.problem.stale'),
    state: () => w('wf.problem.state', { from: statusWords(explained.from), to: statusWords(explained.to) }),
    guard: () => w('wf.problem.guard'),
    duty: () => w('wf.problem.duty'),
    input: () => w('wf.problem.input'),
    forbidden: () => w('wf.problem.forbidden'),
    missing: () => w('wf.problem.missing'),
    other: () => w('wf.problem.other', { detail: problemWords(error) }),
  }[explained.kind]();
  return h('div', { class: 'wf-problem', id: 'wf-problem', role: 'alert', tabindex: '-1',
    dataset: { kind: explained.kind, type: error?.type ?? '' } },
    h('strong', {}, w('wf.problem.title')), h('p', {}, lead), items.length ? h('ul', {}, items) : null);
}

function factsPanel(view) {
  const c = view.case ?? {};
  const app = view.application ?? {};
  const recorded = (part) => (part?.at
    ? w('wf.fact.recorded', { who: part.by?.display_name ?? '—', when: when(part.at) }) : w('wf.fact.not_recorded'));
  const check = view.economic_check ?? {};
  const proposal = view.proposal ?? {};
  const notice = view.notice ?? {};
  const spot = view.spot_check ?? {};
  const decision = view.decision ?? {};
  const emergency = view.emergency ?? {};
  let spotText = w('wf.spot.not_subject');
  if (spot.is_subject || spot.is_drawn) {
    if (!spot.is_drawn) spotText = w('wf.spot.not_drawn');
    else if (!spot.is_sampled) spotText = w('wf.spot.not_sampled');
    else spotText = spot.outcome ? w(`wf.spot.${spot.outcome}`) : w('wf.spot.pending');
  }
  const rows = [
    [w('wf.kind'), kindWords(view.kind_key)],
    [w('wf.status'), h('span', { id: 'wf-status', dataset: { status: view.status } }, statusWords(view.status))],
    [w('wf.deadline'), c.deadline_at ? when(c.deadline_at) : day(c.deadline_on)],
    [w('wf.duties'), ['intake', 'preliminary_review', 'approval'].map((duty) => `${w(`wf.duty.${duty}`)}：${view.duties?.[duty]?.display_name ?? w('wf.nobody')}`).join('；')],
    [w('wf.fact.pledge'), recorded(app.pledge)],
    [w('wf.fact.authorization'), recorded(app.authorization)],
    (app.missing_documents ?? []).length ? [w('wf.fact.missing_documents'), app.missing_documents.join('、')] : null,
    view.kind_key !== 'temporary.emergency' ? [w('wf.fact.economic_check'), w('wf.fact.check_state', {
      requested: day(check.requested_at), returned: day(check.returned_at),
      result: check.result ? w(`wf.result.${check.result}`) : w('wf.result.none') })] : null,
    proposal.category ? [w('wf.fact.proposal'), h('span', { id: 'wf-proposal', dataset: { amount: proposal.monthly_amount_yuan ?? '' } },
      w('wf.fact.proposal_amount', { category: kindWords(proposal.category), income: proposal.per_capita_income_yuan ?? '—',
        standard: proposal.standard_yuan ?? '—', members: proposal.members_count ?? '—', amount: proposal.monthly_amount_yuan ?? '—' }))] : null,
    notice.starts_on ? [w('wf.fact.notice'), w('wf.fact.notice_period', { round: notice.round, starts: day(notice.starts_on),
      ends: day(notice.ends_on), over: notice.is_over ? w('wf.fact.notice_over') : '' })] : null,
    (view.objections ?? []).length ? [w('wf.fact.objections'), view.objections.map((o) => `${o.raised_by_name}：${o.content}（${when(o.recorded_at)}）`).join('；')] : null,
    view.panel?.is_required_after_objection ? [w('wf.fact.panel_required'), '✓'] : null,
    [w('wf.fact.spot_check'), h('span', { id: 'wf-spot' }, spotText)],
    emergency.recipient_name ? [w('wf.fact.emergency'), w('wf.fact.emergency_text', { recipient: emergency.recipient_name,
      reason: emergency.reason, amount: emergency.amount_yuan, due: day(emergency.signatures_due_on) })] : null,
    ...reviewRows(view.periodic_review),
    decision.decided_at ? [w('wf.fact.decision'), [when(decision.decided_at),
      decision.payment_starts_on ? `；${w('wf.fact.payment_starts_on', { date: day(decision.payment_starts_on) })}` : '',
      (decision.reasons ?? []).length ? `；${w('wf.fact.reasons', { reasons: decision.reasons.join('；') })}` : ''].join('')] : null,
  ].filter(Boolean);
  return h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-facts-title' },
    h('h2', { id: 'wf-facts-title' }, w('wf.facts')),
    h('dl', { class: 'wf-facts', id: 'wf-facts' }, rows.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)])));
}

function reviewRows(review) {
  if (!review) return [];
  if (review.subject_case_id) {
    return [
      [w('wf.fact.review_subject'), h('a', { href: `#/work-case/${encodeURIComponent(review.subject_case_id)}` },
        w('wf.fact.review_subject_link'))],
      [w('wf.fact.review_source'), w(`wf.source.${review.source}`)],
      [w('wf.field.review.method'), h('span', { id: 'wf-review-method' },
        review.method ? w(`wf.option.${review.method}`) : w('wf.fact.not_recorded'))],
      review.findings ? [w('wf.field.review.findings'), review.findings] : null,
      review.outcome ? [w('wf.fact.review_outcome'), h('span', { id: 'wf-review-outcome', dataset: { outcome: review.outcome } },
        w('wf.fact.review_outcome_text', { outcome: w(`wf.status.${review.outcome}`),
          before: review.previous_amount_yuan ?? '—', after: review.new_amount_yuan ?? '—' }))] : null,
    ].filter(Boolean);
  }
  return [[w('wf.fact.periodic_review'), h('span', { id: 'wf-review-due' }, w('wf.fact.review_due', {
    tier: review.tier ? w(`wf.option.${review.tier}`) : w('wf.fact.review_tier_none'),
    last: day(review.last_reviewed_on), due: day(review.due_on) }))],
    review.open_review_case_id ? [w('wf.fact.review_open'), h('a', { id: 'wf-review-open',
      href: `#/work-case/${encodeURIComponent(review.open_review_case_id)}` }, w('wf.fact.review_open_link'))] : null,
  ].filter(Boolean);
}

function timelinePanel(items) {
  return h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-timeline-title' },
    h('h2', { id: 'wf-timeline-title' }, w('wf.timeline')),
    items.length ? h('ol', { class: 'wf-timeline', id: 'wf-timeline' }, items.map((item) => {
      const action = w(`wf.audit.${item.action}`);
      const move = item.to_status && item.from_status !== item.to_status
        ? w('wf.timeline.move', { from: statusWords(item.from_status), to: statusWords(item.to_status) }) : '';
      const extra = [];
      const after = item.after ?? {};
      if (after.monthly_amount_yuan) extra.push(`${after.monthly_amount_yuan} 元`);
      if (after.objection?.content) extra.push(`${after.objection.raised_by_name}：${after.objection.content}`);
      if ((after.reasons ?? []).length) extra.push(after.reasons.join('；'));
      if (after.task) extra.push(w(`wf.task.${after.task}`));
      if ((item.team_names ?? []).length) extra.push(w('wf.timeline.team', { names: item.team_names.join('、') }));
      return h('li', { dataset: { action: item.action, to: item.to_status ?? '' } },
        h('time', { datetime: item.at }, when(item.at)),
        h('span', {}, [action.startsWith('wf.audit.') ? item.action : action, move].filter(Boolean).join(' · ')),
        ' — ', item.actor_name ?? w('wf.timeline.system'),
        extra.length ? h('div', { class: 'hint' }, extra.join(' · ')) : null);
    })) : h('p', { class: 'empty' }, w('wf.timeline_none')));
}

export async function render(root, { params }) {
  await prepare();
  const caseId = params[0];
  let view;
  let etag;
  let timeline = [];
  let message = null;         // the last step's outcome: an ok line or a problem box
  let steps = 0;              // steps tried on this screen (data-steps: tests wait on it)
  const printHost = h('section', { class: 'wf-print-host', id: 'wf-doc-host', 'aria-live': 'polite' });
  let dossier = null;         // the household file's panel, kept across redraws

  async function reload() {
    ({ view, etag } = await loadWorkflow(caseId));
    timeline = (await loadTimeline(caseId)).items ?? [];
  }

  async function run(action, form, button) {
    const values = form ? readValues(form, action) : {};
    const result = bodyFor(action, values);
    for (const field of action.fields) {
      const error = root.querySelector(`#${fieldId(action, field.name)}-error`);
      if (error) error.textContent = result.errors?.[field.name] ? w(`wf.error.${result.errors[field.name]}`) : '';
    }
    if (result.errors) {
      root.querySelector(`#${fieldId(action, Object.keys(result.errors)[0])}`)?.focus();
      steps += 1;
      root.dataset.steps = String(steps);
      return;
    }
    button.disabled = true;
    button.textContent = w('wf.saving');
    try {
      const done = await perform(caseId, action, result.body, etag);
      if (action.kind === 'open_review') {
        // The review is a case of its own: carry on there.
        window.location.hash = `#/work-case/${encodeURIComponent(done.body.case_id)}`;
        return;
      }
      message = h('p', { class: 'wf-ok', id: 'wf-ok', role: 'status', tabindex: '-1' }, w('wf.done', { what: actionTitle(action, view) }));
      await reload();
    } catch (error) {
      const explained = explainProblem(error);
      message = problemBox(explained, error);
      if (explained.reload) await reload().catch(() => {});
    }
    steps += 1;
    draw();
    root.dataset.steps = String(steps);
    root.querySelector('#wf-problem, #wf-ok')?.focus();
  }

  function actionBlock(action) {
    const title = actionTitle(action, view);
    const cls = `wf-action${action.danger ? ' is-danger' : ''}`;
    const buttonId = `wf-do-${action.id}`;
    if (!action.fields.length) {
      const button = h('button', { class: `btn ${action.danger ? 'btn-danger' : 'btn-primary'}`, type: 'button', id: buttonId,
        onclick: () => run(action, null, button) }, title);
      return h('div', { class: cls, dataset: { action: action.id } },
        action.due_on ? h('p', { class: 'hint' }, w('wf.due_on', { date: day(action.due_on) })) : null, button);
    }
    const submit = h('button', { class: 'btn btn-primary', type: 'submit', id: buttonId }, w('wf.submit'));
    const form = h('form', { novalidate: true, onsubmit: (event) => { event.preventDefault(); run(action, form, submit); } },
      action.fields.map((field) => fieldControl(action, field)),
      h('div', { class: 'wf-buttons' }, submit));
    return h('details', { class: cls, dataset: { action: action.id }, id: `wf-action-${action.id}` },
      h('summary', { class: 'btn', id: `wf-open-${action.id}` }, title), form);
  }

  async function showDocument(kind) {
    fill(printHost, h('p', { class: 'loading' }, w('wf.loading')));
    try {
      const html = await (await fetchDocument(caseId, kind, 'html', view.village_code)).text();
      // The page's own <style> is allowed only on the page itself (its CSP hash); here the
      // desk's style sheet dresses the same markup, so the element is left out before parsing.
      const parsed = new DOMParser().parseFromString(html.replace(/<style>[\s\S]*?<\/style>/g, ''), 'text/html');
      const page = parsed.querySelector('main');
      const preview = h('article', { class: 'wf-doc-preview', id: 'wf-doc-preview', dataset: { kind },
        'aria-label': w('wf.doc.preview', { title: w(`wf.doc.${kind}`) }) });
      for (const node of [...(page?.childNodes ?? [])]) {
        const adopted = document.importNode(node, true);
        if (adopted.nodeName === 'H1') {
          const heading = h('h2', {}, adopted.textContent);
          preview.append(heading);
        } else preview.append(adopted);
      }
      fill(printHost,
        h('div', { class: 'wf-buttons' },
          h('button', { class: 'btn btn-primary', type: 'button', id: 'wf-doc-print', onclick: () => {
            document.body.classList.add('wf-printing');
            window.print();
            document.body.classList.remove('wf-printing');
          } }, w('wf.doc.print')),
          h('button', { class: 'btn', type: 'button', id: 'wf-doc-close', onclick: () => fill(printHost) }, w('wf.doc.close'))),
        preview);
      preview.setAttribute('tabindex', '-1');
      preview.focus();
    } catch (error) {
      fill(printHost, h('p', { class: 'wf-problem', role: 'alert' }, w('wf.doc.failed', { detail: problemWords(error) })));
    }
  }

  function documentsPanel() {
    const kinds = documentsFor(view);
    return h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-docs-title' },
      h('h2', { id: 'wf-docs-title' }, w('wf.documents')),
      kinds.length ? h('ul', { class: 'wf-docs', id: 'wf-docs' }, kinds.map((kind) => h('li', { dataset: { kind } },
        h('span', {}, w(`wf.doc.${kind}`)),
        h('button', { class: 'btn', type: 'button', id: `wf-pdf-${kind}`, 'aria-label': `${w(`wf.doc.${kind}`)} ${w('wf.doc.pdf')}`,
          onclick: async () => {
            try {
              saveBlob(await fetchDocument(caseId, kind, 'pdf', view.village_code), `${kind}-${caseId.slice(0, 8)}.pdf`);
            } catch (error) {
              fill(printHost, h('p', { class: 'wf-problem', role: 'alert' }, w('wf.doc.failed', { detail: problemWords(error) })));
            }
          } }, w('wf.doc.pdf')),
        h('button', { class: 'btn', type: 'button', id: `wf-html-${kind}`, 'aria-label': `${w(`wf.doc.${kind}`)} ${w('wf.doc.html')}`,
          onclick: () => showDocument(kind) }, w('wf.doc.html')))))
        : h('p', { class: 'empty' }, w('wf.documents_none')));
  }

  function dossierFor(current) {
    const householdId = current.case?.household?.id;
    if (!householdId || !roles().some((role) => DOSSIER_ROLES.includes(role))) return null;
    dossier ??= dossierPanel(householdId, problemWords);
    return dossier;
  }

  function draw() {
    const actions = actionsFor(view, roles());
    const name = view.case?.household?.head_name ?? '';
    fill(root,
      workNav(''),
      h('a', { class: 'back', href: '#/work' }, `‹ ${w('wf.back')}`),
      h('h1', { id: 'wf-case-title', dataset: { version: String(view.version) } },
        [name, kindWords(view.kind_key)].filter(Boolean).join(' · ')),
      view.case_no ? h('p', { class: 'wf-case-no', id: 'wf-case-no' }, `${w('wf.case_no')}：${view.case_no}`) : null,
      view.case?.household_id ? h('p', {}, h('a', { href: `#/privacy-household/${view.case.household_id}`, id: 'wf-household-members' },
        w('wf.household_members'))) : null,
      message,
      h('div', { class: 'wf-grid' },
        h('div', {},
          factsPanel(view),
          h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-actions-title', id: 'wf-actions' },
            h('h2', { id: 'wf-actions-title' }, w('wf.actions')),
            actions.length ? actions.map(actionBlock) : h('p', { class: 'empty' }, w('wf.actions_none')))),
        h('div', {}, documentsPanel(), dossierFor(view), timelinePanel(timeline))),
      printHost);
    root.dataset.ready = 'true';
  }

  try {
    await reload();
  } catch (error) {
    fill(root, workNav(''), h('p', { class: 'wf-problem', role: 'alert' }, w('wf.load_failed', { detail: problemWords(error) })));
    root.dataset.ready = 'true';
    return leave;
  }
  draw();
  return () => { dossier?.stop(); return leave(); };
}
