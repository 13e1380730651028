// The shared form-validation table through form.js (the Python side runs it in
// tests/unit/test_form_validation.py), plus the identity checks and the helpers views use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  checkConstraint, computeCalculations, isRelevant, isRequired, isValidMobile,
  isValidResidentId, maskMobile, maskResidentId, normalizeResidentId, validateForm,
} from '../../../pwa/static/js/domain/form.js';

const readJson = (relative) => JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8'));
const { cases } = readJson('../../data/form_validation_cases.json');
const survey = readJson('../../../backend/forms/definitions/household_survey.v1.json');

function definitionOf(c) {
  const sections = c.sections || [
    { name: 'main', label: { 'zh-CN': '主', en: 'Main' }, fields: c.fields }];
  return {
    form_id: 'case', version: 1, title: { 'zh-CN': '测试', en: 'Test' },
    context_fields: c.context_fields || [], sections,
  };
}

test('the table is big enough', () => {
  assert.ok(cases.length >= 10);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

for (const c of cases) {
  test(c.name, () => {
    const { errors, computed } = validateForm(definitionOf(c), c.data, c.context);
    assert.deepStrictEqual(errors, c.expect_errors);
    assert.deepStrictEqual(computed, c.expect_computed);
  });
}

// GB 11643-1999: 11010519491231002X and 440524188001010014 are the standard's own examples.
test('resident IDs: check character, date, length, case', () => {
  assert.ok(isValidResidentId('11010519491231002X'));
  assert.ok(isValidResidentId('440524188001010014'));
  assert.ok(isValidResidentId('440304200002290014')); // 29 Feb of a leap year
  assert.ok(!isValidResidentId('110105194912310021')); // wrong check character
  assert.ok(!isValidResidentId('110105199902300015')); // 30 Feb
  assert.ok(!isValidResidentId('11010519491231002x')); // lower-case x: normalize first
  assert.ok(isValidResidentId(normalizeResidentId(' 11010519491231002x ')));
  assert.ok(!isValidResidentId('11010519491231002')); // 17 characters
  assert.ok(!isValidResidentId(null));
});

test('mobile numbers and masks', () => {
  assert.ok(isValidMobile('13812345678'));
  assert.ok(!isValidMobile('12812345678'));
  assert.ok(!isValidMobile('1381234567'));
  assert.equal(maskResidentId('11010519491231002X'), '1101**********002X');
  assert.equal(maskMobile('13812345678'), '138****5678');
});

test('field helpers used by the views', () => {
  const grade = survey.sections[1].fields[0].fields.find((f) => f.name === 'disability_grade');
  assert.equal(isRelevant(grade, {}, { health: 'disabled' }), true);
  assert.equal(isRelevant(grade, {}, { health: 'healthy' }), false);
  assert.equal(isRequired(grade, {}, { health: 'disabled' }), true);
  const age = survey.sections[1].fields[0].fields.find((f) => f.name === 'age');
  assert.equal(checkConstraint(age, 40, {}, {}), null);
  assert.equal(checkConstraint(age, 121, {}, {}, 'en'), 'Age must be between 0 and 120');
});

test('the shipped survey computes per-capita income on the device', () => {
  const { computed } = computeCalculations(survey, {
    members: [{ income_wages: 1500, income_transfer: 200.5 }, { income_business: 300 }],
    supporters: [{ monthly_support: 100 }],
  }, { case_kind: 'dibao' });
  assert.equal(computed['members[0].member_income'], 1700.5);
  assert.equal(computed.household_monthly_income, 2100.5);
  assert.equal(computed.member_count, 2);
  assert.equal(computed.per_capita_monthly_income, 1050.25);
  assert.equal(computed.self_care_level, null);
});
