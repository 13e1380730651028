// The outbox: every queued record with its state, and the server's reason when refused.
import { h, clear } from '../dom.js';
import { screen } from '../render.js';
import { t, problemText, formatDateTime } from '../i18n.js';
import * as outbox from '../outbox.js';
import * as store from '../store.js';

export async function render(root) {
  const list = h('ul', { class: 'outbox-list', id: 'outbox-list' });
  const progress = h('progress', { class: 'progress', id: 'upload-progress', max: 1, value: 0, hidden: true,
    role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0', 'aria-label': t('sync.upload_progress') });
  const line = h('p', { class: 'sync-line', id: 'outbox-line', role: 'status' });
  const send = h('button', { class: 'btn btn-primary', type: 'button', id: 'send-now',
    onclick: () => { line.textContent = t('sync.pushing'); outbox.drain({ force: true }); } }, t('outbox.send_now'));
  clear(root).append(h('div', { class: 'toolbar' }, h('h1', {}, t('outbox.title')), send), line, progress, list);

  const view = screen(root);
  const show = () => view.draw(async () => {
    const items = await outbox.entries();
    const cases = new Map((await store.all('cases')).map((c) => [c.id, c]));
    list.replaceChildren(...items.map((entry) => {
      const record = entry.record;
      const head = cases.get(record.case_id)?.household?.head_name ?? record.case_id ?? '';
      const problem = entry.status === 'needs_attention' ? (entry.problem ?? entry.result?.problem) : null;
      const missing = entry.result?.is_complete === false ? entry.result : null;
      return h('li', { dataset: { id: entry.id, status: entry.status } },
        h('strong', {}, head), ' ', h('span', { class: `status status-${entry.status}` }, t(`outbox.status.${entry.status}`)),
        h('div', { class: 'muted' }, formatDateTime(entry.queued_at)),
        entry.status === 'waiting' && entry.attempts ? h('div', { class: 'hint' },
          t('outbox.attempts', { n: entry.attempts, when: formatDateTime(entry.next_attempt_at) }),
          entry.last_error ? ` · ${problemText(entry.last_error)}` : '') : null,
        problem ? h('p', { class: 'form-error problem', role: 'alert' }, problemText(problem),
          problem.detail ? h('span', { class: 'hint' }, ` (${problem.detail})`) : null) : null,
        entry.status === 'needs_attention' ? h('p', { class: 'hint next-step' },
          problem?.photo ? `${t('outbox.photo_refused')} ` : '', t('outbox.parked_next')) : null,
        entry.status === 'needs_attention' ? h('button', { class: 'btn retry', type: 'button',
          onclick: () => outbox.retry(entry.id) }, t('outbox.retry')) : null,
        missing && missing.missing_photos?.length ? h('p', { class: 'hint' },
          t('outbox.incomplete', { what: missing.missing_photos.length })) : null);
    }));
    if (!items.length) list.replaceChildren(h('li', { class: 'empty' }, t('outbox.empty')));
  });
  const stop = outbox.onChange((event) => {
    if (event.type === 'photos') {
      progress.hidden = false;
      progress.max = event.total;
      progress.value = event.done;
      progress.setAttribute('aria-valuenow', String(Math.round((100 * event.done) / event.total)));
      line.textContent = t('sync.photos', { done: Math.floor(event.done), total: event.total });
      // Bytes of one photo report many times a second: only a finished photo redraws the list.
      if (!Number.isInteger(event.done)) return;
    } else if (event.type === 'done') {
      progress.hidden = true;
      line.textContent = event.parked ? t('sync.done_parked', { n: event.parked }) : t('sync.done');
    } else if (event.type === 'idle') {
      progress.hidden = true;
      line.textContent = t(event.reason === 'offline' ? 'outbox.offline_waits' : 'outbox.sign_in_first');
    } else if (event.type === 'error') {
      progress.hidden = true;
      line.textContent = problemText(event.error);
    }
    show();
  });
  await show();
  return stop;
}
