// "My cases": the assignments on this phone, readable and searchable without a signal.
import { h, fill } from '../dom.js';
import { screen } from '../render.js';
import { t, getLang, formatDate, formatDateTime, problemText } from '../i18n.js';
import { fieldWords, openTasks } from '../domain/review-tasks.js';
import * as store from '../store.js';
import * as sync from '../sync.js';

/** Text a worker might type to find a household: names, address, village, ID tail. */
function haystack(item) {
  const household = item.household ?? {};
  return [household.head_name, household.address, household.village_name,
    ...(household.members ?? []).flatMap((m) => [m.name, m.id_number?.slice(-4)])]
    .filter(Boolean).join(' ').toLowerCase();
}

// A decided case (approved, refused, stopped…) has no deadline left to meet (issue 21: the
// list kept "截止" and "overdue" on them); it sorts after the open ones.
const OPEN = new Set(['accepted', 'investigating', 'panel_review', 'reviewing', 'public_notice']);
const isOpen = (item) => !item.status || OPEN.has(item.status);
const overdue = (item) => isOpen(item) && item.is_overdue;

function byUrgency(a, b) {
  return Number(isOpen(b)) - Number(isOpen(a)) || Number(overdue(b)) - Number(overdue(a))
    || (a.deadline_at ?? a.deadline_on ?? '9999').localeCompare(b.deadline_at ?? b.deadline_on ?? '9999');
}

/** Emergency aid is due at an instant (24 h after intake), other kinds on a date. */
function dueText(item) {
  if (!isOpen(item)) return '';
  if (item.deadline_at) return formatDateTime(item.deadline_at);
  return item.deadline_on ? formatDate(item.deadline_on) : '';
}

function caseRow(item, draftCaseIds) {
  const household = item.household ?? {};
  const kind = item.kind === 'temporary' && item.temporary_subtype
    ? t(`kind.temporary.${item.temporary_subtype}`) : t(`kind.${item.kind}`);
  return h('li', {},
    h('a', { class: `case-row${overdue(item) ? ' is-overdue' : ''}`, href: `#/case/${item.id}`,
      dataset: { caseId: item.id } },
    h('span', { class: 'case-head' }, household.head_name ?? t('cases.unnamed')),
    h('span', { class: 'case-place' }, household.village_name ?? '', ' · ', household.address ?? ''),
    h('span', { class: 'case-meta' },
      h('span', { class: 'tag' }, kind),
      h('span', { class: 'tag tag-status' }, t(`status.${item.status}`)),
      draftCaseIds.has(item.id) ? h('span', { class: 'tag tag-draft' }, t('cases.has_draft')) : null),
    h('span', { class: 'case-deadline' },
      dueText(item) ? t('cases.deadline', { date: dueText(item) }) : '',
      overdue(item) ? h('strong', { class: 'overdue' }, ` ${t('cases.overdue')}`) : null)));
}

/** A visit a reviewer sent back: the household, what to fix, and where to fix it. */
function taskRow(task, item, forms) {
  const household = item?.household ?? {};
  const revisit = task.state === 'revisit_requested';
  return h('li', { class: 'task', dataset: { submissionId: task.submission_id, state: task.state } },
    h('a', { class: 'case-row', href: revisit ? `#/survey/${task.case_id}` : `#/survey/${task.case_id}/${task.submission_id}` },
      h('span', { class: 'case-head' }, household.head_name ?? t('cases.unnamed')),
      h('span', { class: 'tag tag-task' }, t(`task.${task.state}`)),
      h('ul', { class: 'task-comments' }, (task.comments ?? []).map((c) => h('li', {},
        c.field ? h('strong', {}, `${fieldWords(forms, c.field, getLang())}：`) : null, c.text)))));
}

export async function render(root, { navigate }) {
  const tasks = h('ul', { class: 'case-list', id: 'task-list' });
  const tasksBlock = h('section', { id: 'sent-back', hidden: true, 'aria-labelledby': 'sent-back-title' },
    h('h2', { id: 'sent-back-title' }, t('task.title')), tasks);
  const list = h('ul', { class: 'case-list', id: 'case-list', 'aria-live': 'polite' });
  const empty = h('p', { class: 'empty', hidden: true });
  const search = h('input', { type: 'search', id: 'case-search', placeholder: t('cases.search'),
    'aria-label': t('cases.search'), value: sessionStorage.getItem('doorstep.q') ?? '' });
  const status = h('p', { class: 'sync-line', id: 'sync-line' });
  const refresh = h('button', { class: 'btn', type: 'button', id: 'pull-now',
    onclick: () => pullNow() }, t('cases.refresh'));
  fill(root, 
    h('div', { class: 'toolbar' }, h('h1', {}, t('cases.title')), refresh),
    status, tasksBlock, h('div', { class: 'search' }, search), list, empty);
  const view = screen(root);

  let cases = [];
  let drafts = new Set();
  // While a pull runs, an empty list is not yet "no cases assigned": the status line says it
  // is updating (a new phone's first list would otherwise tell its worker to tap Refresh).
  let pulling = false;
  const load = () => view.draw(async () => {
    cases = (await store.all('cases')).sort(byUrgency);
    drafts = new Set((await store.all('drafts')).map((d) => d.case_id));
    // A task whose fix is already queued waits for the server, not for the team.
    const open = openTasks(await store.all('review_tasks'), (await store.all('outbox')).map((e) => e.record));
    const byId = new Map(cases.map((c) => [c.id, c]));
    const forms = (await store.all('forms')).sort((a, b) => b.version - a.version);
    tasks.replaceChildren(...open.map((task) => taskRow(task, byId.get(task.case_id), forms)));
    tasksBlock.hidden = open.length === 0;
    const pulledAt = await store.get('device', 'pulled_at');
    status.textContent = pulledAt ? t('cases.pulled_at', { when: formatDateTime(pulledAt) })
      : t('cases.never_pulled');
    showList();
  });
  const show = () => view.draw(() => { showList(); });
  function showList() {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    sessionStorage.setItem('doorstep.q', search.value);
    const shown = cases.filter((c) => words.every((w) => haystack(c).includes(w)));
    list.replaceChildren(...shown.map((c) => caseRow(c, drafts)));
    empty.hidden = shown.length > 0 || (pulling && cases.length === 0);
    empty.textContent = cases.length ? t('cases.no_match') : t('cases.none');
  }
  async function pullNow() {
    if (!navigator.onLine) { status.textContent = t('sync.offline'); return; }
    refresh.disabled = true;
    pulling = true;
    show();
    status.textContent = t('sync.pulling');
    try {
      await sync.pull();
      pulling = false;
      await load();
    } catch (error) {
      pulling = false;
      show();
      status.textContent = problemText(error);
    }
    refresh.disabled = false;
  }
  search.addEventListener('input', show);
  const pulledAt = await store.get('device', 'pulled_at');
  // Refresh on open when online, but show what we have first: the list is usable at once.
  const pullOnOpen = navigator.onLine && (!pulledAt || Date.now() - Date.parse(pulledAt) > 60_000);
  pulling = pullOnOpen;
  await load();
  if (pullOnOpen) pullNow();
  void navigate;
}
