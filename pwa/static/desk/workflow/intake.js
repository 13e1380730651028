// Intake at the window (受理, issue 21): register the household and its members, open the
// case, assign the home-visit team. Three steps on one screen, each sent as soon as it is
// filled (with a client UUID, so a retry never makes two), then the next one opens. The team
// step shows who is free, marks a declared relative of the household (the server refuses
// them, 004) and ticks a suggested pair that rotates across the village's visits.
import { h, fill, uuid } from '../../js/dom.js';
import { api } from '../../js/api.js';
import { prepare, leave, w, kindWords, workNav, problemWords } from './common.js';

const RELATIONS = ['head', 'spouse', 'child', 'parent', 'grandchild', 'sibling', 'other'];
const KINDS = ['dibao', 'low_income_margin', 'extreme_poverty', 'temporary.emergency', 'temporary.expenditure', 'special_case'];
const CHANNELS = ['window', 'village_committee', 'online'];

const field = (id, label, control) => h('div', { class: 'wf-field' }, h('label', { for: id }, label), control);

function memberRow(index) {
  const id = (name) => `in-member-${index}-${name}`;
  return h('fieldset', { class: 'wf-member', dataset: { index: String(index) } },
    h('legend', {}, w('in.member_n', { n: index + 1 })),
    field(id('name'), w('in.member_name'), h('input', { id: id('name'), required: true, maxlength: '50', autocomplete: 'off' })),
    field(id('relation'), w('in.member_relation'), h('select', { id: id('relation') },
      RELATIONS.map((r) => h('option', { value: r, selected: index === 0 ? r === 'head' : r === 'spouse' }, w(`relation.${r}`))))),
    field(id('id_number'), w('in.member_id_number'), h('input', { id: id('id_number'), maxlength: '18', inputmode: 'text', autocomplete: 'off' })),
    field(id('phone'), w('in.member_phone'), h('input', { id: id('phone'), maxlength: '11', inputmode: 'numeric', autocomplete: 'off' })));
}

function problemLine(id, error) {
  const details = Object.entries(error?.errors ?? {}).map(([path]) => w(`in.field.${path.split('.').pop()}`));
  return h('p', { class: 'wf-problem', id, role: 'alert', tabindex: '-1' }, problemWords(error),
    details.length ? ` ${w('in.check_fields', { fields: [...new Set(details)].join('、') })}` : '');
}

export async function render(root) {
  await prepare();
  const villages = (await api.get('/api/jurisdictions')).filter((place) => place.level === 'village');
  const state = { household: null, case: null };
  const householdHost = h('div', {});
  const caseHost = h('div', {});
  const teamHost = h('div', {});

  function householdStep() {
    const members = h('div', { id: 'in-members' }, memberRow(0));
    const out = h('div', {});
    const form = h('form', { id: 'in-household-form', novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      const rows = [...members.querySelectorAll('fieldset')].map((set) => {
        const value = (name) => set.querySelector(`[id$="-${name}"]`).value.trim();
        return { name: value('name'), relation: value('relation'), id_number: value('id_number') || null, phone: value('phone') || null };
      });
      try {
        state.household = await api.post('/api/households', { id: uuid(), jurisdiction_code: form.querySelector('#in-village').value,
          address: form.querySelector('#in-address').value.trim(), members: rows }, { retries: 0 });
        draw();
      } catch (error) {
        fill(out, problemLine('in-household-problem', error));
        out.querySelector('[role=alert]')?.focus();
      }
    } },
    field('in-village', w('in.village'), h('select', { id: 'in-village' }, villages.map((v) => h('option', { value: v.code }, v.name)))),
    field('in-address', w('in.address'), h('input', { id: 'in-address', required: true, maxlength: '200', autocomplete: 'off' })),
    members,
    h('div', { class: 'wf-buttons' },
      h('button', { class: 'btn', type: 'button', id: 'in-add-member',
        onclick: () => members.append(memberRow(members.children.length)) }, w('in.add_member')),
      h('button', { class: 'btn btn-primary', type: 'submit', id: 'in-household-save' }, w('in.household_save'))),
    out);
    return form;
  }

  function caseStep() {
    const out = h('div', {});
    const form = h('form', { id: 'in-case-form', onsubmit: async (event) => {
      event.preventDefault();
      const [kind, subtype] = form.querySelector('#in-kind').value.split('.');
      try {
        state.case = await api.post('/api/cases', { id: uuid(), household_id: state.household.id, kind,
          temporary_subtype: subtype ?? null, channel: form.querySelector('#in-channel').value,
          has_honesty_pledge: form.querySelector('#in-pledge').checked,
          is_economic_check_authorized: form.querySelector('#in-authorization').checked }, { retries: 0 });
        draw();
      } catch (error) {
        fill(out, problemLine('in-case-problem', error));
        out.querySelector('[role=alert]')?.focus();
      }
    } },
    field('in-kind', w('wf.kind'), h('select', { id: 'in-kind' }, KINDS.map((k) => h('option', { value: k }, kindWords(k))))),
    field('in-channel', w('in.channel'), h('select', { id: 'in-channel' }, CHANNELS.map((c) => h('option', { value: c }, w(`in.channel.${c}`))))),
    h('div', { class: 'wf-check' }, h('input', { type: 'checkbox', id: 'in-pledge', checked: true }), h('label', { for: 'in-pledge' }, w('in.pledge'))),
    h('div', { class: 'wf-check' }, h('input', { type: 'checkbox', id: 'in-authorization', checked: true }), h('label', { for: 'in-authorization' }, w('in.authorization'))),
    h('div', { class: 'wf-buttons' }, h('button', { class: 'btn btn-primary', type: 'submit', id: 'in-case-save' }, w('in.case_save'))),
    out);
    return form;
  }

  async function teamStep() {
    const options = await api.get(`/api/cases/${encodeURIComponent(state.case.id)}/team-candidates`);
    const suggested = new Set(options.suggested);
    const out = h('div', {});
    const list = h('ul', { class: 'plain wf-team', id: 'in-team' }, options.candidates.map((c) => h('li', { dataset: { userId: c.user_id, relative: String(c.is_relative) } },
      h('input', { type: 'checkbox', id: `in-team-${c.user_id}`, value: c.user_id, checked: suggested.has(c.user_id), disabled: c.is_relative }),
      h('label', { for: `in-team-${c.user_id}` }, c.display_name, ' · ',
        c.open_cases ? w('in.open_cases', { n: c.open_cases }) : w('in.free'),
        c.is_relative ? h('strong', { class: 'bad' }, ` · ${w('in.relative')}`) : null,
        suggested.has(c.user_id) ? h('span', { class: 'hint' }, ` · ${w('in.suggested')}`) : null))));
    return h('form', { id: 'in-team-form', onsubmit: async (event) => {
      event.preventDefault();
      const ids = [...list.querySelectorAll('input:checked')].map((box) => box.value);
      try {
        state.case = await api.put(`/api/cases/${encodeURIComponent(state.case.id)}/team`, { user_ids: ids },
          { headers: { 'If-Match': `"${state.case.version}"` }, retries: 0 });
        state.done = true;
        draw();
      } catch (error) {
        fill(out, problemLine('in-team-problem', error));
        out.querySelector('[role=alert]')?.focus();
      }
    } },
    h('p', { class: 'hint' }, w('in.team_hint', { n: options.min_team_size })),
    list,
    h('div', { class: 'wf-buttons' }, h('button', { class: 'btn btn-primary', type: 'submit', id: 'in-team-save' }, w('in.team_save'))),
    out);
  }

  const section = (id, title, body) => h('section', { class: 'wf-panel', id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title), body);

  async function draw() {
    delete root.dataset.ready;
    const head = state.household?.members?.find((m) => m.relation === 'head') ?? state.household?.members?.[0];
    fill(householdHost, section('in-household', w('in.household'), state.household
      ? h('p', { id: 'in-household-done', class: 'wf-ok' }, w('in.household_done', { name: head?.name ?? '', address: state.household.address }))
      : householdStep()));
    fill(caseHost, state.household ? section('in-case', w('in.case'), state.case
      ? h('p', { id: 'in-case-done', class: 'wf-ok' }, w('in.case_done', { no: state.case.case_no ?? '' }))
      : caseStep()) : null);
    fill(teamHost, state.case ? section('in-team-step', w('in.team'), state.done
      ? h('p', { id: 'in-done', class: 'wf-ok', tabindex: '-1' }, w('in.team_done', { names: (state.case.team ?? []).map((m) => m.display_name).join('、') }), ' ',
        h('a', { href: `#/work-case/${encodeURIComponent(state.case.id)}`, id: 'in-open-case' }, w('wf.open_case')))
      : await teamStep()) : null);
    root.dataset.ready = 'true';
    root.dataset.step = state.done ? 'done' : state.case ? 'team' : state.household ? 'case' : 'household';
  }

  fill(root, workNav('intake'), h('h1', {}, w('in.title')), h('p', { class: 'muted' }, w('in.intro')),
    householdHost, caseHost, teamHost);
  await draw();
  return leave;
}
