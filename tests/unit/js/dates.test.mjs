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

// Issue 21: one formatter for every screen, desk and phone; recipients read dates as people
// write them, not ISO.
import { chinaDay, chinaMonth, previousMonth, formatShortDate, formatDateRange } from '../../../pwa/static/js/domain/dates.js';

test('the day and month in China of an instant, not UTC\'s', () => {
  assert.equal(chinaDay('2026-11-30T16:30:00Z'), '2026-12-01');  // 00:30 in Beijing
  assert.equal(chinaMonth('2026-11-30T16:30:00Z'), '2026-12');
  assert.equal(chinaDay('2026-12-01'), '2026-12-01');
  assert.equal(chinaDay(null), '');
  assert.equal(previousMonth('2026-01'), '2025-12');
  assert.equal(previousMonth('2026-12'), '2026-11');
});

test('a recipient reads a window as 12月1日至12月20日', () => {
  const now = Date.parse('2026-12-05T02:00:00Z');
  assert.equal(formatDateRange('2026-12-01', '2026-12-20', 'zh-CN', now), '12月1日至12月20日');
  assert.equal(formatDateRange('2026-12-01', '2026-12-20', 'en', now), 'Dec 1 to Dec 20');
  assert.equal(formatDateRange('2026-12-20', '2027-01-05', 'zh-CN', now), '2026年12月20日至2027年1月5日');
  assert.equal(formatShortDate('2026-11-30T16:30:00Z', 'zh-CN'), '12月1日');
  assert.equal(formatDateRange(null, '2026-12-20', 'zh-CN', now), '');
});
