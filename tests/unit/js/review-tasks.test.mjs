// Visits sent back by a reviewer (issue 10): which tasks are open, where the survey opens,
// which copy of the reviewed answers the fix starts from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  domPath, openTasks, fieldWords, startOf, reviewedAnswers,
} from '../../../pwa/static/js/domain/review-tasks.js';

const definition = { form_id: 'household_survey', version: 1, sections: [
  { name: 'home', label: { 'zh-CN': '住房', en: 'Home' }, fields: [
    { name: 'housing_area', type: 'decimal', label: { 'zh-CN': '住房建筑面积', en: 'Floor area' } }] },
  { name: 'people', label: '成员', fields: [
    { name: 'members', type: 'repeat', label: { 'zh-CN': '家庭成员', en: 'Member' }, fields: [
      { name: 'id_number', type: 'text', label: { 'zh-CN': '公民身份号码', en: 'ID number' } }] }] },
] };
const task = (extra = {}) => ({ submission_id: 's1', case_id: 'c1', state: 'has_issues', revision: 1,
  comments: [{ field: null, text: '整体' }, { field: 'members[1].id_number', text: '号码不符' }],
  visit: { form_id: 'household_survey', form_version: 1, data: { members: [{ id_number: '5306**********1234' }] },
    stamps: [{ kind: 'start', captured_at: '2026-12-01T01:00:00Z' }], photos: [] }, ...extra });

test('a reviewer field path becomes the DOM path the survey uses', () => {
  assert.equal(domPath('members[1].id_number'), 'members.1.id_number');
  assert.equal(domPath('housing_area'), 'housing_area');
});

test('the survey opens at the section of the first commented field, focused on it', () => {
  assert.deepEqual(startOf(task(), definition), { step_name: 'people', focus: 'members.1.id_number' });
  assert.deepEqual(startOf(task({ comments: [{ field: 'housing_area', text: 'x' }] }), definition),
    { step_name: 'home', focus: 'housing_area' });
  assert.deepEqual(startOf(task({ comments: [{ field: null, text: 'x' }] }), definition), { step_name: null, focus: null });
});

test('commented fields are named in words, in the language asked', () => {
  assert.equal(fieldWords([definition], 'members[1].id_number'), '家庭成员 2 · 公民身份号码');
  assert.equal(fieldWords([definition], 'housing_area', 'en'), 'Floor area');
  assert.equal(fieldWords([definition], 'no_such_field'), 'no_such_field');
});

test('a task whose fix waits in the outbox is no longer listed', () => {
  const tasks = [task(), task({ submission_id: 's2', revision: 2 })];
  assert.deepEqual(openTasks(tasks, []).map((t) => t.submission_id), ['s1', 's2']);
  const fixed = [{ id: 's1', base_revision: 1 }, { id: 's2', base_revision: null }];
  assert.deepEqual(openTasks(tasks, fixed).map((t) => t.submission_id), ['s2']);
  // A fix of an older revision does not hide a newer task.
  assert.deepEqual(openTasks(tasks, [{ id: 's2', base_revision: 1 }]).map((t) => t.submission_id), ['s1', 's2']);
});

test('the fix starts from the phone’s own unmasked copy of the same revision, else the server’s', () => {
  const own = { record: { type: 'visit_submission', id: 's1', base_revision: null,
    data: { members: [{ id_number: '530621200105041234' }] }, stamps: [{ kind: 'start' }], photos: [{ sha256: 'a' }] } };
  assert.equal(reviewedAnswers(task(), own).data.members[0].id_number, '530621200105041234');
  assert.deepEqual(reviewedAnswers(task(), own).photos, [{ sha256: 'a' }]);
  // The phone holds revision 1 but the reviewer commented on revision 2: the server's copy.
  assert.equal(reviewedAnswers(task({ revision: 2 }), own).data.members[0].id_number, '5306**********1234');
  assert.equal(reviewedAnswers(task(), undefined).data.members[0].id_number, '5306**********1234');
  // A copy, not the task's own object: editing the draft leaves the stored task as it was.
  const started = task();
  reviewedAnswers(started, undefined).data.members[0].id_number = 'x';
  assert.equal(started.visit.data.members[0].id_number, '5306**********1234');
});
