// One case: the household, its members and where the home is – all from IndexedDB.
import { h } from '../dom.js';
import { screen } from '../render.js';
import { t, formatDate, formatDateTime } from '../i18n.js';
import * as store from '../store.js';

export function render(root, { params, navigate }) {
  void navigate;
  return screen(root, { patching: false }).draw(() => caseScreen(params[0]));
}

async function caseScreen(caseId) {
  const item = await store.get('cases', caseId);
  if (!item) {
    return [h('p', { class: 'empty' }, t('case.missing')),
      h('a', { class: 'btn', href: '#/cases' }, t('nav.back'))];
  }
  const household = (await store.get('households', item.household_id)) ?? item.household ?? {};
  const drafts = await store.allByIndex('drafts', 'case_id', item.id);
  const draft = drafts.find((d) => d.state !== 'queued' && !d.base_revision);
  // A visit of this case that a reviewer sent back is fixed, not visited anew.
  const task = (await store.all('review_tasks')).find((x) => x.case_id === item.id && x.state === 'has_issues');
  const hasHome = household.home_lat != null && household.home_lon != null;
  return [
    h('a', { class: 'back', href: '#/cases' }, `‹ ${t('nav.cases')}`),
    h('h1', {}, household.head_name ?? ''),
    h('p', { class: 'muted' }, household.village_name ?? '', ' · ', household.address ?? ''),
    h('dl', { class: 'facts' },
      item.case_no ? h('dt', {}, t('case.case_no')) : null,
      item.case_no ? h('dd', { id: 'case-no' }, item.case_no) : null,
      h('dt', {}, t('case.kind')), h('dd', {}, t(`kind.${item.kind}`)),
      h('dt', {}, t('case.status')), h('dd', {}, t(`status.${item.status}`)),
      h('dt', {}, t('case.deadline')), h('dd', { class: item.is_overdue ? 'overdue' : '' },
        item.deadline_at ? formatDateTime(item.deadline_at) : formatDate(item.deadline_on),
        item.is_overdue ? ` ${t('cases.overdue')}` : ''),
      h('dt', {}, t('case.team')), h('dd', {}, (item.team ?? []).map((m) => m.display_name).join('、')),
      h('dt', {}, t('case.location')), h('dd', { id: 'case-location' }, hasHome
        ? `${household.home_lat.toFixed(5)}, ${household.home_lon.toFixed(5)}` : t('case.no_location')),
      household.is_relative_of_staff ? h('dt', {}, t('case.relative_of_staff')) : null,
      household.is_relative_of_staff ? h('dd', { class: 'warn' }, t('case.relative_of_staff_note')) : null),
    h('h2', {}, t('case.members', { count: (household.members ?? []).length })),
    h('ul', { class: 'members', id: 'members' }, (household.members ?? []).map((m) => h('li', {},
      h('strong', {}, m.name), ` · ${t(`relation.${m.relation}`)}`,
      m.id_number ? h('span', { class: 'muted mono' }, ` ${m.id_number}`) : null))),
    h('div', { class: 'actions' },
      task ? h('a', { class: 'btn btn-primary btn-block', id: 'fix-survey', href: `#/survey/${item.id}/${task.submission_id}` },
        t('task.fix')) : null,
      h('a', { class: `btn ${task ? '' : 'btn-primary '}btn-block`, id: 'start-survey', href: `#/survey/${item.id}` },
        draft ? t('case.continue_survey') : t('case.start_survey'))),
  ];
}
