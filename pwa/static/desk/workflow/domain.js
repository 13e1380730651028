// Pure decisions of the workflow desk (no DOM, no fetch): which actions a case offers its
// viewer, what each sends, which documents exist, and what a refused step means for the
// person at the desk. Tested with node --test (tests/unit/js/workflow-desk.test.mjs).
import { chinaDay, chinaMonth, previousMonth } from '../../js/domain/dates.js';

/** Fields an action asks for. `lines` is one entry per line (reasons, missing documents). */
const REASONS = { name: 'reasons', type: 'lines', required: true };

/**
 * The form each transition target needs, by `${from}>${to}` (or `*>${to}`), mirroring the
 * server's table (backend/workflow/rules.py TRANSITIONS) and its TransitionSchema.
 */
const TRANSITION_FORMS = {
  'accepted>investigating': [],
  'accepted>approved': [
    { name: 'emergency.recipient_name', type: 'text', required: true, max: 50 },
    { name: 'emergency.reason', type: 'text', required: true, max: 500 },
    { name: 'emergency.amount_yuan', type: 'money', required: true },
  ],
  'investigating>panel_review': [],
  'investigating>reviewing': 'proposal',
  'panel_review>reviewing': 'panel+proposal',
  'reviewing>public_notice': [],
  'reviewing>approved': [{ name: 'bank_account', type: 'text', required: false, max: 34 }],
  'public_notice>approved': [{ name: 'bank_account', type: 'text', required: false, max: 34 }],
  'public_notice>investigating': [
    { name: 'objection.raised_by_name', type: 'text', required: true, max: 50 },
    { name: 'objection.content', type: 'textarea', required: true, max: 1000 },
  ],
  'approved>stopped': [REASONS],
  '*>refused': [REASONS],
  '*>withdrawn': [REASONS],
};

const TIER = { name: 'review_tier', type: 'select', required: false,
  options: ['', 'yearly', 'half_yearly'] };

/** A periodic review's own forms (backend/workflow/rules.py REVIEW_TRANSITIONS). */
const REVIEW_FORMS = {
  'accepted>investigating': [{ name: 'review.method', type: 'select', required: true,
    options: ['', 'home_visit', 'system_comparison', 'phone'] }],
  'investigating>reviewing': [{ name: 'review.findings', type: 'textarea', required: true, max: 2000 }],
  'reviewing>continued': [TIER],
  'reviewing>adjusted': [{ name: 'proposal.per_capita_income_yuan', type: 'money', required: true }, TIER],
  'reviewing>stopped': [REASONS],
};

/**
 * The panel's record as held (004): its date, then per drawn member (frozen by the draw)
 * attendance, a reason for an absence or a substitute, the substitute's name and the
 * signature on screen. The counts are derived by the server, never typed.
 */
function panelFields(drawn) {
  const perMember = drawn.flatMap((member) => {
    const base = `panel.attendance.${member.id}`;
    const who = { name: member.name, role: member.role };
    return [
      { name: `${base}.status`, type: 'select', required: true, value: 'present',
        options: ['present', 'absent', 'substitute'], label: { key: 'wf.field.panel.status', params: who } },
      { name: `${base}.reason`, type: 'text', required: false, max: 200,
        label: { key: 'wf.field.panel.reason', params: who } },
      { name: `${base}.substitute_name`, type: 'text', required: false, max: 50,
        label: { key: 'wf.field.panel.substitute_name', params: who } },
      { name: `${base}.signature`, type: 'signature', required: false,
        label: { key: 'wf.field.panel.signature', params: who } },
    ];
  });
  return [{ name: 'panel.held_on', type: 'date', required: true }, ...perMember,
    { name: 'panel.opinion', type: 'textarea', required: false, max: 2000 }];
}

function proposalFields(kindKey) {
  return kindKey === 'temporary.expenditure'
    ? [{ name: 'proposal.amount_yuan', type: 'money', required: true }]
    : [{ name: 'proposal.per_capita_income_yuan', type: 'money', required: true }];
}

/** The fields moving from `from` to `to` asks for, for a case of `kindKey` (a panel's
 *  record names the `drawn` members). */
export function transitionFields(from, to, kindKey, drawn = []) {
  if (kindKey === 'periodic_review') return REVIEW_FORMS[`${from}>${to}`] ?? [];
  const form = TRANSITION_FORMS[`${from}>${to}`] ?? TRANSITION_FORMS[`*>${to}`] ?? [];
  if (form === 'proposal') return proposalFields(kindKey);
  if (form === 'panel+proposal') return [...panelFields(drawn), ...proposalFields(kindKey)];
  return form;
}

/** Buttons that stop the case (refuse, withdraw, stop) are shown apart, as dangerous. */
export const ENDING = new Set(['refused', 'withdrawn', 'stopped']);

const TASK_ROLES = {
  refusal_letter_sent: ['intake_clerk', 'approver'],
  emergency_signatures_completed: ['approver'],
  special_case_filed: ['approver'],
  temporary_aid_paid: ['approver'],
};
const OPEN = ['accepted', 'investigating', 'panel_review', 'reviewing', 'public_notice'];
const MONTHLY = ['dibao', 'extreme_poverty', 'low_income_margin', 'special_case'];

const has = (roles, ...wanted) => wanted.some((role) => roles.includes(role));

/**
 * Everything the viewer may do on this case, in the order of the work:
 * [{id, kind: 'application'|'economic_check'|'transition'|'task'|'spot_check', to?, task?,
 *   fields, danger?}]. The server still decides (guards, separation of duties).
 */
export function actionsFor(view, roles = []) {
  const actions = [];
  const status = view.status;
  const review = view.periodic_review ?? {};
  if (status === 'approved' && review.due_on && !review.open_review_case_id
      && has(roles, 'intake_clerk', 'village_assistant')) {
    actions.push({ id: 'open_review', kind: 'open_review', fields: [] });
  }
  if (status === 'accepted' && has(roles, 'intake_clerk', 'village_assistant')
      && !['temporary.emergency', 'periodic_review'].includes(view.kind_key)) {
    actions.push({ id: 'application', kind: 'application', fields: [
      { name: 'pledge', type: 'checkbox', checked: Boolean(view.application?.pledge?.at) },
      { name: 'authorization', type: 'checkbox', checked: Boolean(view.application?.authorization?.at) },
      { name: 'missing_documents', type: 'lines', required: false,
        value: (view.application?.missing_documents ?? []).join('\n') },
    ] });
  }
  if (OPEN.includes(status) && has(roles, 'intake_clerk', 'reviewer')
      && view.kind_key !== 'temporary.emergency') {
    const check = view.economic_check ?? {};
    actions.push({ id: 'economic_check', kind: 'economic_check', fields: [
      { name: 'requested_on', type: 'date', required: true, value: dateOf(check.requested_at) },
      { name: 'returned_on', type: 'date', required: false, value: dateOf(check.returned_at) },
      { name: 'result', type: 'select', required: false, value: check.result ?? '',
        options: ['', 'eligible', 'needs_review', 'obviously_ineligible'] },
    ] });
  }
  if (['investigating', 'panel_review'].includes(status) && has(roles, 'reviewer')
      && !['temporary.emergency', 'periodic_review'].includes(view.kind_key)) {
    // 004: the panel is drawn from the village pool before it meets; drawing again needs
    // a reason (kept in the audit trail with the draw it replaces).
    const drawn = (view.panel?.drawn_members ?? []).length > 0;
    actions.push({ id: 'panel_draw', kind: 'panel_draw', fields: drawn
      ? [{ name: 'reason', type: 'text', required: true, max: 500, label: { key: 'wf.field.redraw_reason', params: {} } }]
      : [] });
  }
  const targets = [...(view.allowed_transitions ?? [])];
  targets.sort((a, b) => Number(ENDING.has(a)) - Number(ENDING.has(b)));
  for (const to of targets) {
    actions.push({ id: `to-${to}`, kind: 'transition', to, danger: ENDING.has(to),
      fields: prefilled(transitionFields(status, to, view.kind_key, view.panel?.drawn_members ?? []), view) });
  }
  for (const task of view.tasks ?? []) {
    if (!task.completed_at && has(roles, ...(TASK_ROLES[task.task] ?? []))) {
      actions.push({ id: `task-${task.task}`, kind: 'task', task: task.task, due_on: task.due_on, fields: [] });
    }
  }
  const spot = view.spot_check ?? {};
  if (spot.is_sampled && !spot.outcome && has(roles, 'county_supervisor')) {
    actions.push({ id: 'spot_check', kind: 'spot_check', fields: [
      { name: 'outcome', type: 'select', required: true, value: '', options: ['', 'confirmed', 'problems_found'] },
      { name: 'note', type: 'textarea', required: false, max: 500 },
    ] });
  }
  return actions;
}

/** A review's adjustment starts from the income its home visit found, else the one the
 *  allowance was set on: the approver corrects a figure instead of retyping it. */
function prefilled(fields, view) {
  const review = view.periodic_review ?? {};
  const income = review.visit_income_yuan ?? review.income_on_record_yuan;
  if (view.kind_key !== 'periodic_review' || income == null) return fields;
  return fields.map((field) => (field.name === 'proposal.per_capita_income_yuan'
    ? { ...field, value: String(income) } : field));
}

function dateOf(instant) {
  return chinaDay(instant ?? '');
}

/** A day in China (YYYY-MM-DD) as the instant of its start (00:00 Beijing time). */
export function startOfChinaDay(day) { return `${day}T00:00:00+08:00`; }

function setPath(target, path, value) {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {});
  node[parts.at(-1)] = value;
}

/**
 * The request body of `action` from the form's `values` ({name: string|boolean}), or
 * {errors: {name: 'required' | 'number' | 'too_long'}} when something must be fixed first.
 */
export function bodyFor(action, values) {
  const errors = {};
  const body = action.kind === 'transition' ? { to: action.to } : {};
  for (const field of action.fields) {
    const raw = values[field.name];
    if (field.type === 'checkbox') {
      if (action.kind === 'application') {
        if (raw) body[field.name] = { scan_sha256s: [] };
      } else setPath(body, field.name, Boolean(raw));
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (!text) {
      if (field.required) errors[field.name] = 'required';
      continue;
    }
    if (field.max && text.length > field.max) { errors[field.name] = 'too_long'; continue; }
    if (field.type === 'signature') {
      // The pad's PNG (base64); the server keeps it and computes its sha256.
      setPath(body, field.name, { kind: 'on_screen', image_png_base64: text });
      continue;
    }
    if (field.type === 'lines') {
      const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
      setPath(body, field.name, lines);
    } else if (field.type === 'money') {
      if (!/^\d{1,7}(\.\d{1,2})?$/.test(text)) { errors[field.name] = 'number'; continue; }
      setPath(body, field.name, text);
    } else if (field.type === 'integer') {
      if (!/^\d{1,4}$/.test(text)) { errors[field.name] = 'number'; continue; }
      setPath(body, field.name, Number(text));
    } else {
      setPath(body, field.name, text);
    }
  }
  if (action.kind === 'economic_check') {
    const out = { requested_at: body.requested_on ? startOfChinaDay(body.requested_on) : undefined,
      returned_at: body.returned_on ? startOfChinaDay(body.returned_on) : null,
      result: body.result || null };
    return Object.keys(errors).length ? { errors } : { body: out };
  }
  if (action.kind === 'application' && body.missing_documents === undefined) body.missing_documents = [];
  return Object.keys(errors).length ? { errors } : { body };
}

/** The printable documents this case has at its stage (the server answers 409 otherwise). */
export function documentsFor(view) {
  const docs = [];
  if ((view.application?.missing_documents ?? []).length) docs.push('missing_documents_notice');
  if (view.notice?.starts_on) docs.push('public_notice');
  if (view.status === 'refused'
      || (OPEN.includes(view.status) && view.economic_check?.result === 'obviously_ineligible')) {
    docs.push('refusal_letter');
  }
  if (view.status === 'stopped') docs.push('stop_notice');
  // A case approved outside the workflow (an imported recipient) has no decision to print.
  if (view.status === 'approved' && view.decision?.decided_at) {
    docs.push('approval_notice');
    // 004: the decision is posted (审批公示), and the village's standing notice lists it.
    if (MONTHLY.includes(view.kind_key)) docs.push('approval_public_notice', 'standing_notice');
  }
  if (view.emergency?.recipient_name) docs.push('emergency_record');
  return docs;
}

/**
 * What a refused step means at the desk: {kind, rules, messages, reload}. `kind` picks the
 * words: stale (412: someone changed the case; reload and look again), state (409 naming
 * from and to: the case is no longer where you saw it), guard (422, or another 409: a rule
 * is not met; `rules` are its
 * slugs, `messages` the server's sentences), duty (422 separation of duties), input (400 or
 * 422 of the form), forbidden (403), missing (428), other.
 */
export function explainProblem(error) {
  const status = error?.status ?? 0;
  const type = error?.type ?? '';
  const problem = error?.problem ?? {};
  const messages = Object.values(error?.errors ?? {}).flat().filter((m) => typeof m === 'string');
  if (status === 412 || type === 'stale-version') return { kind: 'stale', rules: [type], messages: [], reload: true };
  if (status === 428) return { kind: 'missing', rules: [type], messages: [], reload: true };
  if (status === 409 && problem.from === undefined) {
    // Not a refused move (those name both states) but a rule of the case as it now is
    // (`periodic-review-open`, `task-not-open`): its words, then the case reloaded.
    return { kind: 'guard', rules: [type], messages: [error.detail].filter(Boolean), reload: true };
  }
  if (status === 409) {
    return { kind: 'state', rules: [type], messages: [], reload: true,
      from: problem.from, to: problem.to, allowed: problem.allowed ?? [] };
  }
  if (type === 'separation-of-duties') {
    // The server's sentence is English for the API's readers; the desk says it from the
    // slugs of the two duties (issue 21: no server English on a Chinese screen).
    return { kind: 'duty', rules: [type], messages: [], reload: false,
      duty: problem.duty, done: problem.done };
  }
  if (status === 422 && type !== 'validation-failed' && type !== 'document-content-invalid') {
    return { kind: 'guard', rules: problem.rules ?? [type], messages: messages.length ? messages : [error.detail].filter(Boolean), reload: false };
  }
  if (status === 400 || status === 422) return { kind: 'input', rules: [type], messages, reload: false };
  if (status === 403) return { kind: 'forbidden', rules: [type], messages: [error.detail].filter(Boolean), reload: false };
  return { kind: 'other', rules: [type], messages: [error?.detail ?? error?.message].filter(Boolean), reload: false };
}

/** Due items split by state, overdue first, each list in the server's order. */
export function groupDue(items) {
  const groups = { overdue: [], due_soon: [], later: [] };
  for (const item of items ?? []) (groups[item.state] ?? groups.later).push(item);
  return groups;
}

/** The month a county draw should cover by default: the earliest whose cases still wait for
 *  one, else last month (this month's cases are still coming in; the demo has drawn it). */
export function defaultDrawMonth(items, now = Date.now()) {
  const waiting = (items ?? []).filter((i) => i.task === 'spot_check_draw' && i.intake_month)
    .map((i) => i.intake_month).sort();
  return waiting[0] ?? previousMonth(chinaMonth(now));
}
