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
