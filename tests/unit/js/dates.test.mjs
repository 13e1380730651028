// One date formatter per language, on China's clock whatever the phone's time zone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDate, formatDateTime } from '../../../pwa/static/js/domain/dates.js';

test('an instant reads as a Chinese date and 24-hour time in Asia/Shanghai', () => {
  assert.equal(formatDateTime('2026-11-26T00:42:38Z', 'zh-CN'), '2026年11月26日 08:42');
});

test('English keeps the same clock', () => {
  assert.match(formatDateTime('2026-11-26T00:42:38Z', 'en'), /Nov 26, 2026,? 08:42/);
});

test('a calendar date is that day in China', () => {
  assert.equal(formatDate('2026-11-26', 'zh-CN'), '2026年11月26日');
  assert.equal(formatDate('2026-11-25T17:00:00Z', 'zh-CN'), '2026年11月26日');
});

test('nothing to show gives an empty string, never "null" or "Invalid Date"', () => {
  for (const value of [null, undefined, '', 'not a date']) {
    assert.equal(formatDateTime(value, 'zh-CN'), '');
    assert.equal(formatDate(value, 'en'), '');
  }
});
