// The administrator's webhooks desk (issue 18): subscriptions of the county or township, the
// signing secret shown once (at creation and rotation), the delivery log with each attempt,
// redelivery, and the notices of subscriptions disabled after a run of failures.
// Loaded on demand and kept outside static/js/, so it is never precached (a desk screen).
import { h, fill, toast } from '../js/dom.js';
import { t, problemText } from '../js/i18n.js';
import { api, request } from '../js/api.js';
import { prepare, deskNav, when } from './common.js';

const enc = encodeURIComponent;
const slugId = (slug) => slug.replace(/[^a-z0-9]+/g, '-');
const typeWords = (slug) => t(`webhooks.type.${slug}`);
const purposeWords = (slug) => t(`webhooks.purpose.${slug}`);
const statusWords = (status) => t(`webhooks.status.${status}`);

function secretBox(secret) {
  return h('div', { class: 'card stack wh-secret', id: 'wh-secret-box', role: 'status' },
    h('h2', {}, t('webhooks.secret_title')),
    h('p', {}, t('webhooks.secret_once')),
    h('label', { for: 'wh-secret' }, t('webhooks.secret_label')),
    h('input', { id: 'wh-secret', class: 'input', readonly: true, value: secret, size: 60 }),
    h('button', { class: 'btn', type: 'button', id: 'wh-secret-copy', onclick: async () => {
      try { await navigator.clipboard.writeText(secret); toast(t('webhooks.copied')); } catch { toast(t('webhooks.copy_failed'), 'error'); }
    } }, t('webhooks.copy')));
}

function createForm(types, purposes, onCreated) {
  const error = h('p', { class: 'form-error', id: 'wh-create-error', role: 'alert' });
  const url = h('input', { id: 'wh-url', class: 'input', type: 'url', required: true, maxlength: 2048,
    placeholder: 'https://', 'aria-describedby': 'wh-url-help' });
  const description = h('input', { id: 'wh-description', class: 'input', maxlength: 200 });
  const purpose = h('select', { id: 'wh-purpose', class: 'input' },
    purposes.map((slug) => h('option', { value: slug }, purposeWords(slug))));
  const boxes = types.map((type) => h('label', { class: 'wh-type' },
    h('input', { type: 'checkbox', id: `wh-type-${slugId(type.type)}`, value: type.type }),
    ` ${typeWords(type.type)} (v${type.version})`));
  const form = h('form', { class: 'card stack', id: 'wh-create-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    const chosen = boxes.map((label) => label.querySelector('input')).filter((box) => box.checked).map((box) => box.value);
    try {
      const created = await api.post('/api/webhooks/subscriptions', {
        url: url.value.trim(), event_types: chosen, purpose: purpose.value,
        description: description.value.trim() || null }, { retries: 0 });
      onCreated(created);
    } catch (problem) {
      const fields = Object.keys(problem?.problem?.errors ?? problem?.errors ?? {});
      error.textContent = [problemText(problem), ...fields.map((name) => t(`webhooks.field.${name}`))].join(' ');
      (fields.includes('event_types') ? boxes[0]?.querySelector('input') : url).focus();
    }
  } },
  h('h2', {}, t('webhooks.new')),
  h('label', { for: 'wh-url' }, t('webhooks.url')), url,
  h('p', { class: 'muted', id: 'wh-url-help' }, t('webhooks.url_help')),
  h('fieldset', {}, h('legend', {}, t('webhooks.event_types')), boxes),
  h('label', { for: 'wh-purpose' }, t('webhooks.purpose')), purpose,
  h('p', { class: 'muted' }, t('webhooks.purpose_help')),
  h('label', { for: 'wh-description' }, t('webhooks.description')), description,
  error,
  h('button', { class: 'btn btn-primary', type: 'submit', id: 'wh-create' }, t('webhooks.create')));
  return form;
}

function deliveryLog(subscription, items, reload) {
  return h('section', { class: 'card stack', id: 'wh-log', dataset: { subscriptionId: subscription.id } },
    h('h2', {}, t('webhooks.log_title', { url: subscription.url })),
    items.length ? h('table', { id: 'wh-log-table' },
      h('caption', {}, t('webhooks.log_caption')),
      h('thead', {}, h('tr', {}, ['col_event', 'col_case', 'col_status', 'col_attempts', 'col_code', 'col_duration', 'col_time', 'col_action']
        .map((key) => h('th', { scope: 'col' }, t(`webhooks.${key}`))))),
      h('tbody', {}, items.map((item) => {
        const last = item.log[item.log.length - 1];
        return h('tr', { dataset: { eventId: item.event_id, status: item.status, aggregateId: item.aggregate_id } },
          h('td', {}, typeWords(item.event_type)),
          h('td', {}, item.aggregate_id.slice(0, 8)),
          h('td', {}, statusWords(item.status), last && last.outcome !== 'delivered' ? ` · ${t(`webhooks.outcome.${last.outcome}`)}` : ''),
          h('td', { class: 'num' }, String(item.attempts)),
          h('td', { class: 'num' }, last?.status_code ? String(last.status_code) : '—'),
          h('td', { class: 'num' }, last ? t('webhooks.ms', { n: last.duration_ms }) : '—'),
          h('td', {}, when(item.delivered_at ?? last?.attempted_at ?? item.created_at)),
          h('td', {}, h('button', { class: 'btn', type: 'button', id: `wh-redeliver-${item.id}`,
            'aria-label': t('webhooks.redeliver_named', { event: typeWords(item.event_type) }),
            onclick: async () => {
              try {
                await api.post(`/api/webhooks/deliveries/${enc(item.id)}/redeliver`, undefined, { retries: 0 });
                toast(t('webhooks.redelivery_queued'));
                reload();
              } catch (problem) { toast(problemText(problem), 'error'); }
            } }, t('webhooks.redeliver'))));
      })))
      : h('p', { class: 'muted', id: 'wh-log-empty' }, t('webhooks.log_empty')));
}

function subscriptionRow(subscription, actions) {
  return h('tr', { dataset: { id: subscription.id, enabled: String(subscription.is_enabled) } },
    h('td', {}, subscription.url, subscription.description ? h('div', { class: 'muted' }, subscription.description) : null),
    h('td', {}, subscription.event_types.map(typeWords).join('、')),
    h('td', {}, purposeWords(subscription.purpose)),
    h('td', {}, subscription.is_enabled ? t('webhooks.enabled') : t('webhooks.disabled')),
    h('td', { class: 'num' }, String(subscription.waiting)),
    h('td', { class: 'wh-actions' },
      h('button', { class: 'btn', type: 'button', id: `wh-show-log-${subscription.id}`, onclick: () => actions.showLog(subscription) },
        t('webhooks.show_log')),
      h('button', { class: 'btn', type: 'button', id: `wh-rotate-${subscription.id}`, onclick: () => actions.rotate(subscription) },
        t('webhooks.rotate')),
      subscription.is_enabled ? null : h('button', { class: 'btn', type: 'button', id: `wh-enable-${subscription.id}`,
        onclick: () => actions.enable(subscription) }, t('webhooks.enable'))));
}

export async function render(root, { params = [] } = {}) {
  await prepare();
  document.body.classList.add('desk');
  let shownLog = params[0] ?? null;
  let secret = null;
  const draw = async () => {
    let types;
    let subscriptions;
    let notices;
    try {
      [types, subscriptions, notices] = await Promise.all([api.get('/api/webhooks/event-types'),
        api.get('/api/webhooks/subscriptions'), api.get('/api/webhooks/notices')]);
    } catch (problem) {
      fill(root, deskNav('webhooks'), h('h1', {}, t('webhooks.title')),
        h('p', { class: 'form-error', role: 'alert', id: 'wh-error' }, problemText(problem)));
      root.dataset.ready = 'true';
      return;
    }
    const current = subscriptions.items.find((item) => item.id === shownLog);
    const log = current ? (await api.get(`/api/webhooks/subscriptions/${enc(current.id)}/deliveries`)).items : [];
    const actions = {
      showLog(subscription) { shownLog = subscription.id; secret = null; redraw(); },
      async rotate(subscription) {
        try {
          const one = await api.get(`/api/webhooks/subscriptions/${enc(subscription.id)}`, { raw: true });
          const rotated = await api.post(`/api/webhooks/subscriptions/${enc(subscription.id)}/secret`, { overlap_hours: 24 },
            { headers: { 'If-Match': one.headers.get('ETag') }, retries: 0 });
          secret = rotated.secret;
          toast(t('webhooks.rotated'));
          redraw();
        } catch (problem) { toast(problemText(problem), 'error'); }
      },
      async enable(subscription) {
        try {
          const one = await api.get(`/api/webhooks/subscriptions/${enc(subscription.id)}`, { raw: true });
          await request(`/api/webhooks/subscriptions/${enc(subscription.id)}`, { method: 'PATCH',
            body: { is_enabled: true }, headers: { 'If-Match': one.headers.get('ETag') }, retries: 0 });
          toast(t('webhooks.enabled_toast'));
          redraw();
        } catch (problem) { toast(problemText(problem), 'error'); }
      },
    };
    fill(root,
      deskNav('webhooks'),
      h('h1', {}, t('webhooks.title')),
      h('p', { class: 'muted' }, t('webhooks.intro')),
      notices.items.length ? h('section', { class: 'review-alert', id: 'wh-notices', role: 'alert' },
        h('h2', {}, t('webhooks.notices')),
        h('ul', {}, notices.items.map((notice) => h('li', { dataset: { subscriptionId: notice.subscription_id } },
          t('webhooks.notice_disabled', { url: notice.detail.url, n: notice.detail.consecutive_failures, at: when(notice.created_at) })))))
        : null,
      secret ? secretBox(secret) : null,
      h('table', { id: 'wh-list' },
        h('caption', {}, t('webhooks.list_caption')),
        h('thead', {}, h('tr', {}, ['col_url', 'col_types', 'col_purpose', 'col_state', 'col_waiting', 'col_action']
          .map((key) => h('th', { scope: 'col' }, t(`webhooks.${key}`))))),
        h('tbody', {}, subscriptions.items.length ? subscriptions.items.map((item) => subscriptionRow(item, actions))
          : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, t('webhooks.none'))))),
      current ? deliveryLog(current, log, redraw) : null,
      createForm(types.items, types.purposes, (created) => {
        secret = created.secret;
        shownLog = created.id;
        redraw();
      }));
    root.dataset.ready = 'true';
    root.dataset.drawn = String(Number(root.dataset.drawn ?? 0) + 1);
    document.getElementById(secret ? 'wh-secret' : '')?.focus();
  };
  // One draw at a time, the newest wins (STYLE.md).
  let drawing = Promise.resolve();
  function redraw() { drawing = drawing.then(draw, draw); return drawing; }
  await redraw();
  return () => document.body.classList.remove('desk');
}
