// Dates and times as a worker in the county reads them: one formatter per language, always
// in Asia/Shanghai whatever the phone's own time zone ("2026年11月26日 08:42").
export const TIME_ZONE = 'Asia/Shanghai';

const cache = new Map();

function formatter(lang, withTime) {
  const key = `${lang}|${withTime}`;
  if (!cache.has(key)) {
    cache.set(key, new Intl.DateTimeFormat(lang, {
      timeZone: TIME_ZONE, year: 'numeric', month: lang === 'zh-CN' ? 'long' : 'short', day: 'numeric',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : {}),
    }));
  }
  return cache.get(key);
}

/** A calendar date ("2026-11-26") is a day in China; an instant is shown on China's clock. */
function parse(value) {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  return new Date(value.length === 10 ? `${value}T00:00:00+08:00` : value);
}

export function formatDate(value, lang) {
  if (value === null || value === undefined || value === '') return '';
  const date = parse(value);
  return Number.isNaN(date.getTime()) ? '' : formatter(lang, false).format(date);
}

export function formatDateTime(value, lang) {
  if (value === null || value === undefined || value === '') return '';
  const date = parse(value);
  return Number.isNaN(date.getTime()) ? '' : formatter(lang, true).format(date);
}

const OFFSET_MS = 8 * 3600_000;  // China has kept UTC+8 without summer time since 1991

/** The calendar day in China of an instant (or of now): "2026-12-01". */
export function chinaDay(value = Date.now()) {
  const date = value === null || value === undefined || value === '' ? null : parse(value);
  if (!date || Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

/** The month in China of an instant (or of now): "2026-12", as a month input holds it. */
export function chinaMonth(value = Date.now()) {
  return chinaDay(value).slice(0, 7);
}

/** The month before `month` ("2026-01" → "2025-12"). */
export function previousMonth(month) {
  const [year, number] = month.split('-').map(Number);
  return number === 1 ? `${year - 1}-12` : `${year}-${String(number - 1).padStart(2, '0')}`;
}

/** A day as people write it, without the year: "12月1日" (zh-CN), "Dec 1" (en). */
export function formatShortDate(value, lang) {
  if (value === null || value === undefined || value === '') return '';
  const date = parse(value);
  if (Number.isNaN(date.getTime())) return '';
  const key = `${lang}|short`;
  if (!cache.has(key)) {
    cache.set(key, new Intl.DateTimeFormat(lang, { timeZone: TIME_ZONE, month: lang === 'zh-CN' ? 'long' : 'short', day: 'numeric' }));
  }
  return cache.get(key).format(date);
}

/** A span of days as people write it: "12月1日至12月20日"; the year is said only when the
 *  span leaves this year (China's), "2026年12月20日至2027年1月5日". */
export function formatDateRange(from, to, lang, now = Date.now()) {
  const first = chinaDay(from);
  const last = chinaDay(to);
  if (!first || !last) return '';
  const thisYear = chinaDay(now).slice(0, 4);
  const sameYear = first.slice(0, 4) === thisYear && last.slice(0, 4) === thisYear;
  const show = (day) => (sameYear ? formatShortDate(day, lang) : formatDate(day, lang));
  return lang === 'zh-CN' ? `${show(first)}至${show(last)}` : `${show(first)} to ${show(last)}`;
}
