// The workflow desk (pwa/static/desk/workflow): which actions a case offers whom, what each
// sends, which documents exist, how a refused step reads; its words in both languages; and
// that none of it is precached (the phone's shell stays small).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  actionsFor, bodyFor, documentsFor, explainProblem, groupDue, transitionFields, startOfChinaDay,
} from '../../../pwa/static/desk/workflow/domain.js';

const root = new URL('../../../pwa/static/', import.meta.url).pathname;
const zh = JSON.parse(readFileSync(join(root, 'i18n/workflow/zh-CN.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(root, 'i18n/workflow/en.json'), 'utf8'));

const view = (over = {}) => ({
  status: 'accepted', kind_key: 'dibao', allowed_transitions: [], application: {},
  economic_check: {}, spot_check: {}, tasks: [], notice: {}, emergency: {}, ...over,
});

test('both languages have the same workflow words', () => {
  assert.deepEqual(Object.keys(en).sort(), Object.keys(zh).sort());
});

test('every word a desk module asks for with w() exists', () => {
  const dir = join(root, 'desk/workflow');
  const missing = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    const source = readFileSync(join(dir, name), 'utf8');
    for (const [, key] of source.matchAll(/\bw\('(wf\.[\w.-]+)'/g)) if (!(key in zh)) missing.push(`${name}: ${key}`);
  }
  assert.deepEqual(missing, []);
});

test('the desk is not precached', () => {
  const sw = readFileSync(join(root, 'sw.js'), 'utf8');
  assert.ok(!sw.includes('/static/desk/workflow'), 'workflow desk files are in the precache list');
  assert.ok(!sw.includes('/static/i18n/workflow'), 'workflow words are in the precache list');
});

test('the intake clerk records the application, then starts the investigation', () => {
  const actions = actionsFor(view({ allowed_transitions: ['investigating', 'refused', 'withdrawn'] }), ['intake_clerk']);
  assert.deepEqual(actions.map((a) => a.id),
    ['application', 'economic_check', 'to-investigating', 'to-refused', 'to-withdrawn']);
  assert.equal(actions.find((a) => a.id === 'to-refused').danger, true);
  const application = actions[0];
  const { body } = bodyFor(application, { pledge: true, authorization: false, missing_documents: '户口簿\n\n 收入证明 ' });
  assert.deepEqual(body, { pledge: { scan_sha256s: [] }, missing_documents: ['户口簿', '收入证明'] });
});

test('a reviewer proposes the income; temporary aid proposes an amount', () => {
  assert.deepEqual(transitionFields('investigating', 'reviewing', 'dibao').map((f) => f.name), ['proposal.per_capita_income_yuan']);
  assert.deepEqual(transitionFields('investigating', 'reviewing', 'temporary.expenditure').map((f) => f.name), ['proposal.amount_yuan']);
  // Issue 19: attendance per drawn member with a signature; the counts are never typed.
  const drawn = [{ id: 'm1', name: '王福', role: 'group_leader' }, { id: 'm2', name: '李明', role: 'township_cadre' }];
  const panel = transitionFields('panel_review', 'reviewing', 'dibao', drawn).map((f) => f.name);
  assert.ok(panel.includes('panel.held_on') && panel.includes('proposal.per_capita_income_yuan'));
  assert.ok(panel.includes('panel.attendance.m1.status') && panel.includes('panel.attendance.m2.signature'));
  assert.ok(!panel.some((name) => name.includes('members_present') || name.includes('cadres_present')));
  const action = { kind: 'transition', to: 'reviewing', fields: transitionFields('investigating', 'reviewing', 'dibao') };
  assert.deepEqual(bodyFor(action, { 'proposal.per_capita_income_yuan': '120.5' }).body,
    { to: 'reviewing', proposal: { per_capita_income_yuan: '120.5' } });
  assert.deepEqual(bodyFor(action, { 'proposal.per_capita_income_yuan': '12.345' }).errors,
    { 'proposal.per_capita_income_yuan': 'number' });
  assert.deepEqual(bodyFor(action, { 'proposal.per_capita_income_yuan': ' ' }).errors,
    { 'proposal.per_capita_income_yuan': 'required' });
});

test('an objection reopens the notice with who and what; refusals need reasons', () => {
  const objection = { kind: 'transition', to: 'investigating', fields: transitionFields('public_notice', 'investigating', 'dibao') };
  assert.deepEqual(bodyFor(objection, { 'objection.raised_by_name': '李四', 'objection.content': '有车' }).body,
    { to: 'investigating', objection: { raised_by_name: '李四', content: '有车' } });
  const refuse = { kind: 'transition', to: 'refused', fields: transitionFields('reviewing', 'refused', 'dibao') };
  assert.deepEqual(bodyFor(refuse, { reasons: '' }).errors, { reasons: 'required' });
  assert.deepEqual(bodyFor(refuse, { reasons: '收入超标\n有车' }).body, { to: 'refused', reasons: ['收入超标', '有车'] });
});

test('emergency aid is approved with recipient, reason and amount', () => {
  const actions = actionsFor(view({ kind_key: 'temporary.emergency', allowed_transitions: ['approved', 'refused'] }), ['approver']);
  assert.deepEqual(actions.map((a) => a.id), ['to-approved', 'to-refused']);
  const { body } = bodyFor(actions[0], { 'emergency.recipient_name': '赵四', 'emergency.reason': '火灾', 'emergency.amount_yuan': '3000' });
  assert.deepEqual(body, { to: 'approved', emergency: { recipient_name: '赵四', reason: '火灾', amount_yuan: '3000' } });
});

test('the economic check is sent as instants at the start of the day in China', () => {
  const action = actionsFor(view({ status: 'investigating' }), ['reviewer']).find((a) => a.kind === 'economic_check');
  assert.deepEqual(bodyFor(action, { requested_on: '2026-12-01', returned_on: '', result: '' }).body,
    { requested_at: '2026-12-01T00:00:00+08:00', returned_at: null, result: null });
  assert.equal(startOfChinaDay('2026-12-02'), '2026-12-02T00:00:00+08:00');
});

test('tasks and spot checks go to the roles that do them', () => {
  const decided = view({ status: 'refused', tasks: [{ task: 'refusal_letter_sent', due_on: '2026-12-04', completed_at: null }] });
  assert.deepEqual(actionsFor(decided, ['approver']).map((a) => a.id), ['task-refusal_letter_sent']);
  assert.deepEqual(actionsFor(decided, ['reviewer']).map((a) => a.id), []);
  const sampled = view({ status: 'public_notice', spot_check: { is_sampled: true, outcome: null } });
  assert.ok(actionsFor(sampled, ['county_supervisor']).some((a) => a.id === 'spot_check'));
  assert.ok(!actionsFor(view({ status: 'public_notice', spot_check: { is_sampled: true, outcome: 'confirmed' } }),
    ['county_supervisor']).some((a) => a.id === 'spot_check'));
});

test('documents follow the stage of the case', () => {
  assert.deepEqual(documentsFor(view({ application: { missing_documents: ['户口簿'] } })), ['missing_documents_notice']);
  assert.deepEqual(documentsFor(view({ status: 'public_notice', notice: { starts_on: '2026-12-02' } })), ['public_notice']);
  assert.deepEqual(documentsFor(view({ status: 'refused' })), ['refusal_letter']);
  // Issue 21: a 批准通知 is offered only for a decision the server can print.
  // Issue 19: a monthly allowance's decision is posted, and its village's standing notice.
  assert.deepEqual(documentsFor(view({ status: 'approved', decision: { decided_at: '2026-12-02T02:00:00Z' } })),
    ['approval_notice', 'approval_public_notice', 'standing_notice']);
  assert.deepEqual(documentsFor(view({ status: 'approved', decision: { decided_at: null } })), []);
  assert.deepEqual(documentsFor(view({ status: 'investigating', economic_check: { result: 'obviously_ineligible' } })), ['refusal_letter']);
  const decided = { decided_at: '2026-12-02T02:00:00Z' };
  assert.deepEqual(documentsFor(view({ status: 'approved', decision: decided, notice: { starts_on: '2026-12-02' } })), ['public_notice', 'approval_notice', 'approval_public_notice', 'standing_notice']);
  assert.deepEqual(documentsFor(view({ status: 'approved', decision: decided, kind_key: 'temporary.emergency', emergency: { recipient_name: '赵四' } })),
    ['approval_notice', 'emergency_record']);
});

test('a refused step says what to do next', () => {
  assert.equal(explainProblem({ status: 412, type: 'stale-version' }).kind, 'stale');
  assert.equal(explainProblem({ status: 412, type: 'stale-version' }).reload, true);
  const state = explainProblem({ status: 409, type: 'transition-not-allowed',
    problem: { from: 'approved', to: 'public_notice', allowed: ['stopped'] } });
  assert.deepEqual([state.kind, state.from, state.to, state.reload], ['state', 'approved', 'public_notice', true]);
  const guard = explainProblem({ status: 422, type: 'notice-not-over', errors: { to: ['公示期未满'] },
    problem: { rules: ['notice-not-over', 'spot-check-pending'] } });
  assert.deepEqual([guard.kind, guard.rules, guard.messages], ['guard', ['notice-not-over', 'spot-check-pending'], ['公示期未满']]);
  // A 409 that names no states is a rule of the case as it is now, in its own words.
  const open = explainProblem({ status: 409, type: 'periodic-review-open', detail: 'already open' });
  assert.deepEqual([open.kind, open.rules, open.messages, open.reload], ['guard', ['periodic-review-open'], ['already open'], true]);
  assert.ok('wf.rule.periodic-review-open' in zh);
  assert.equal(explainProblem({ status: 422, type: 'separation-of-duties', detail: 'x' }).kind, 'duty');
  // Issue 21: the server's English sentence never reaches the screen; the duties' slugs do.
  const duty = explainProblem({ status: 422, type: 'separation-of-duties', detail: 'You did preliminary_review',
    problem: { duty: 'approval', done: 'preliminary_review' } });
  assert.deepEqual([duty.messages, duty.duty, duty.done], [[], 'approval', 'preliminary_review']);
  assert.equal(explainProblem({ status: 422, type: 'validation-failed', errors: { reasons: ['bad'] } }).kind, 'input');
  assert.equal(explainProblem({ status: 403, type: 'forbidden' }).kind, 'forbidden');
  assert.equal(explainProblem({ status: 428, type: 'precondition-required' }).kind, 'missing');
  for (const rule of ['notice-not-over', 'home-visit-incomplete', 'spot-check-pending', 'amount-above-cap', 'separation-of-duties']) {
    assert.ok(`wf.rule.${rule}` in zh, rule);
  }
});

test('due items are grouped overdue, due soon, later', () => {
  const groups = groupDue([{ state: 'later', case_id: 'c' }, { state: 'overdue', case_id: 'a' }, { state: 'due_soon', case_id: 'b' }]);
  assert.deepEqual([groups.overdue.length, groups.due_soon.length, groups.later.length], [1, 1, 1]);
});

test('a periodic review asks for its method, its findings, then an outcome (004)', () => {
  const key = 'periodic_review';
  assert.deepEqual(transitionFields('accepted', 'investigating', key).map((f) => f.name), ['review.method']);
  assert.deepEqual(transitionFields('investigating', 'reviewing', key).map((f) => f.name), ['review.findings']);
  assert.deepEqual(transitionFields('reviewing', 'adjusted', key).map((f) => f.name),
    ['proposal.per_capita_income_yuan', 'review_tier']);
  assert.deepEqual(transitionFields('reviewing', 'stopped', key).map((f) => f.name), ['reasons']);
  const start = actionsFor(view({ kind_key: key, allowed_transitions: ['investigating'] }), ['intake_clerk']);
  assert.deepEqual(start.map((a) => a.id), ['economic_check', 'to-investigating']);  // no application form
  const missing = bodyFor(start[1], { 'review.method': '' });
  assert.deepEqual(missing.errors, { 'review.method': 'required' });
  assert.deepEqual(bodyFor(start[1], { 'review.method': 'phone' }).body,
    { to: 'investigating', review: { method: 'phone' } });
  const stop = actionsFor(view({ kind_key: key, status: 'reviewing', allowed_transitions: ['stopped', 'continued'] }), ['approver']);
  assert.deepEqual(stop.map((a) => [a.to, Boolean(a.danger)]), [['continued', false], ['stopped', true]]);
});

test('a current recipient whose review is due offers to open one, once', () => {
  const due = { due_on: '2027-06-08', open_review_case_id: null };
  const approved = view({ status: 'approved', periodic_review: due });
  assert.ok(actionsFor(approved, ['intake_clerk']).some((a) => a.kind === 'open_review'));
  assert.ok(!actionsFor(approved, ['reviewer']).some((a) => a.kind === 'open_review'));
  const open = view({ status: 'approved', periodic_review: { ...due, open_review_case_id: 'x' } });
  assert.ok(!actionsFor(open, ['intake_clerk']).some((a) => a.kind === 'open_review'));
});

test("a review's adjustment starts from the visit's income, else the allowance's", () => {
  const reviewing = (review) => view({ kind_key: 'periodic_review', status: 'reviewing',
    allowed_transitions: ['adjusted'], periodic_review: review });
  const income = (review) => actionsFor(reviewing(review), ['approver'])[0].fields
    .find((f) => f.name === 'proposal.per_capita_income_yuan').value;
  assert.equal(income({ visit_income_yuan: '412.50', income_on_record_yuan: '300.00' }), '412.50');
  assert.equal(income({ visit_income_yuan: null, income_on_record_yuan: '300.00' }), '300.00');
  assert.equal(income({ visit_income_yuan: null, income_on_record_yuan: null }), undefined);
  // Not a review: a new case's proposal is typed from the survey, never prefilled.
  const fresh = actionsFor(view({ status: 'investigating', allowed_transitions: ['reviewing'],
    periodic_review: { income_on_record_yuan: '300.00' } }), ['reviewer']);
  assert.ok(fresh.every((a) => a.fields.every((f) => f.value === undefined || f.name !== 'proposal.per_capita_income_yuan')));
});

test('the county draw defaults to the earliest month still waiting, else last month (issue 21)', async () => {
  const { defaultDrawMonth } = await import('../../../pwa/static/desk/workflow/domain.js');
  const now = Date.parse('2026-12-06T02:00:00Z');
  assert.equal(defaultDrawMonth([], now), '2026-11');
  assert.equal(defaultDrawMonth([], Date.parse('2027-01-01T00:30:00+08:00')), '2026-12');
  assert.equal(defaultDrawMonth([
    { task: 'decision', intake_month: '2026-08' },
    { task: 'spot_check_draw', intake_month: '2026-10' },
    { task: 'spot_check_draw', intake_month: '2026-09' }], now), '2026-09');
});
