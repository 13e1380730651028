// The form logic on the device: relevance, required, constraints, calculations and a full
// validation that gives the same error paths, messages and computed values as
// backend/forms/validation.py (the two passes are described there).
// tests/data/form_validation_cases.json runs through both sides.
import { evaluate, isTruthy, roundHalfAway } from './expressions.js';

export const MESSAGES = Object.freeze({
  required: '此项为必填项',
  text: '应填写文字',
  integer: '应填写整数',
  decimal: '应填写数字',
  money: '金额应为不小于 0、最多两位小数的数字',
  date: '日期应为有效的 YYYY-MM-DD',
  select_one: '不是可选的选项',
  select_many: '应为不重复的可选选项列表',
  yes_no: '应选择是或否',
  geopoint: '定位应包含有效的纬度、经度和精度',
  photo: '照片应为 64 位小写十六进制 SHA-256 摘要',
  signature: '签名应为 64 位小写十六进制 SHA-256 摘要',
  repeat: '应为记录列表',
  entry: '每条记录应为对象',
  resident_id: '公民身份号码无效',
  mobile: '手机号码无效',
  min: '不能小于 {}',
  max: '不能大于 {}',
  constraint: '填写内容不符合要求',
});

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const SHA256 = /^[0-9a-f]{64}$/;

// ---------------------------------------------------------------- identity (GB 11643-1999)
// Decisions are documented in backend/forms/identity.py: upper-case X only, address code of six
// digits not starting with 0, a real birth date from 1800 on.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';
const RESIDENT_ID = /^[1-9][0-9]{16}[0-9X]$/;
// As the field-worker role is shown an ID (4 + 10 stars + 4): "unchanged from the register".
const MASKED_RESIDENT_ID = /^[1-9][0-9]{3}\*{10}[0-9]{3}[0-9X]$/;
const MOBILE = /^1[3-9][0-9]{9}$/;

export function isCalendarDate(year, month, day) {
  if (!(year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1)) return false;
  const isLeap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

export function residentIdCheckChar(first17) {
  let total = 0;
  for (let i = 0; i < 17; i += 1) total += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[total % 11];
}

/** What an input screen should store: trimmed, with the check character upper-case. */
export function normalizeResidentId(text) {
  return text.trim().toUpperCase();
}

export function isValidResidentId(text) {
  if (typeof text !== 'string' || !RESIDENT_ID.test(text)) return false;
  const year = Number(text.slice(6, 10));
  const month = Number(text.slice(10, 12));
  const day = Number(text.slice(12, 14));
  if (year < 1800 || !isCalendarDate(year, month, day)) return false;
  return residentIdCheckChar(text.slice(0, 17)) === text[17];
}

/** A masked ID sent back untouched: the worker confirmed the registered number unchanged. */
export function isMaskedResidentId(text) {
  return typeof text === 'string' && MASKED_RESIDENT_ID.test(text);
}

export function isValidMobile(text) {
  return typeof text === 'string' && MOBILE.test(text);
}

function mask(text, head, tail) {
  const chars = Array.from(text);
  if (chars.length <= head + tail) return '*'.repeat(chars.length);
  return chars.slice(0, head).join('') + '*'.repeat(chars.length - head - tail)
    + chars.slice(chars.length - tail).join('');
}

export const maskResidentId = (text) => mask(text, 4, 4);
export const maskMobile = (text) => mask(text, 3, 4);

// ---------------------------------------------------------------- field logic

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
// An own property or null: a field named `constructor` must not read Object.prototype's.
const own = (object, key) => (Object.hasOwn(object, key) && object[key] !== undefined ? object[key] : null);
const context = (values, entry, current = null) => ({ values, entry, current });

/** A section or field is shown (and checked) unless its `relevant` expression is falsy. */
export function isRelevant(item, values, entry = null) {
  return item.relevant == null || isTruthy(evaluate(item.relevant, context(values, entry)));
}

export function isRequired(field, values, entry = null) {
  const required = field.required ?? false;
  if (typeof required === 'string') return isTruthy(evaluate(required, context(values, entry)));
  return required === true;
}

/** null when the answer meets the field's constraint, else the message to show. */
export function checkConstraint(field, value, values, entry = null, language = 'zh-CN') {
  if (field.constraint == null) return null;
  if (isTruthy(evaluate(field.constraint, context(values, entry, value)))) return null;
  return (field.constraint_message || {})[language] || MESSAGES.constraint;
}

const isEmpty = (v) => v === null || v === undefined || v === ''
  || (Array.isArray(v) && v.length === 0);
const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
const choiceValues = (field) => new Set((field.choices || []).map((c) => c.value));

function typeError(field, value) {
  let ok;
  switch (field.type) {
    case 'text': ok = typeof value === 'string'; break;
    case 'integer': ok = isNumber(value) && Number.isInteger(value); break;
    case 'decimal': ok = isNumber(value); break;
    case 'money': ok = isNumber(value) && value >= 0 && roundHalfAway(value, 2) === value; break;
    case 'date': {
      const match = typeof value === 'string' ? DATE.exec(value) : null;
      ok = match !== null && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]));
      break;
    }
    case 'select_one': ok = typeof value === 'string' && choiceValues(field).has(value); break;
    case 'select_many': {
      const allowed = choiceValues(field);
      ok = Array.isArray(value) && value.every((v) => typeof v === 'string' && allowed.has(v))
        && new Set(value).size === value.length;
      break;
    }
    case 'yes_no': ok = typeof value === 'boolean'; break;
    case 'geopoint':
      ok = isObject(value) && ['lat', 'lon', 'accuracy'].every((k) => isNumber(value[k]))
        && value.lat >= -90 && value.lat <= 90 && value.lon >= -180 && value.lon <= 180
        && value.accuracy >= 0;
      break;
    case 'photo':
    case 'signature': ok = typeof value === 'string' && SHA256.test(value); break;
    default: ok = true;
  }
  return ok ? null : MESSAGES[field.type];
}

function answerErrors(field, value, values, entry) {
  if (isEmpty(value)) return isRequired(field, values, entry) ? [MESSAGES.required] : [];
  const problem = typeError(field, value);
  if (problem) return [problem];
  const errors = [];
  if (field.format === 'resident_id' && !isValidResidentId(value) && !isMaskedResidentId(value)) errors.push(MESSAGES.resident_id);
  if (field.format === 'mobile' && !isValidMobile(value)) errors.push(MESSAGES.mobile);
  if (field.min !== undefined && value < field.min) errors.push(MESSAGES.min.replace('{}', String(field.min)));
  if (field.max !== undefined && value > field.max) errors.push(MESSAGES.max.replace('{}', String(field.max)));
  const message = checkConstraint(field, value, values, entry);
  if (message) errors.push(message);
  return errors;
}

// One walk over a definition and the answers: pass 1 (relevance, clearing, calculations).
function walk(defn, data, ctx) {
  const answersIn = isObject(data) ? data : {};
  const given = ctx || {};
  const values = {};
  const computed = {};
  const answers = [];

  const initial = (field, raw) => {
    if (field.type === 'calculate') return null;
    if (field.type !== 'repeat' || !Array.isArray(raw)) return raw;
    // Every entry holds every member key, so ${name} inside an entry never falls through to a
    // top-level field of the same name just because this entry left it blank.
    return raw.map((row) => {
      const source = isObject(row) ? row : {};
      const entry = {};
      for (const member of field.fields) {
        entry[member.name] = member.type === 'calculate' ? null : own(source, member.name);
      }
      return entry;
    });
  };

  const visit = (field, path, holder, entry, isShown) => {
    const { name, type } = field;
    if (!(isShown && isRelevant(field, values, entry))) {
      holder[name] = null;
      if (type === 'calculate') computed[path] = null;
      return;
    }
    if (type === 'calculate') {
      const value = evaluate(field.calculation, context(values, entry));
      holder[name] = value;
      computed[path] = value;
      return;
    }
    if (type === 'note') return;
    answers.push([path, field, holder[name], entry]);
    if (type === 'repeat' && Array.isArray(holder[name])) {
      holder[name].forEach((row, index) => {
        for (const member of field.fields) visit(member, `${path}[${index}].${member.name}`, row, row, true);
      });
    }
  };

  for (const section of defn.sections) {
    for (const field of section.fields) values[field.name] = initial(field, own(answersIn, field.name));
  }
  for (const name of defn.context_fields || []) {
    values[name] = own(given, name);
  }
  for (const section of defn.sections) {
    const isShown = isRelevant(section, values);
    for (const field of section.fields) visit(field, field.name, values, null, isShown);
  }
  return { values, computed, answers, answersIn };
}

function repeatErrors(path, field, raw, values) {
  if (isEmpty(raw)) return isRequired(field, values) ? { [path]: [MESSAGES.required] } : {};
  if (!Array.isArray(raw)) return { [path]: [MESSAGES.repeat] };
  const errors = {};
  raw.forEach((row, index) => { if (!isObject(row)) errors[`${path}[${index}]`] = [MESSAGES.entry]; });
  return errors;
}

/**
 * Every calculate field's value by path (null when not relevant), plus the values expressions
 * saw (non-relevant answers cleared), for rendering.
 */
export function computeCalculations(defn, data, ctx = {}) {
  const { values, computed } = walk(defn, data, ctx);
  return { values, computed };
}

/** {errors: {path: [message...]}, computed: {path: value}}, as the server will decide. */
export function validateForm(defn, data, ctx = {}) {
  const { values, computed, answers, answersIn } = walk(defn, data, ctx);
  const errors = {};
  for (const [path, field, value, entry] of answers) {
    if (field.type === 'repeat') {
      Object.assign(errors, repeatErrors(path, field, own(answersIn, field.name), values));
    } else {
      const found = answerErrors(field, value, values, entry);
      if (found.length) errors[path] = found;
    }
  }
  return { errors, computed };
}
