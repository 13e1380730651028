// Start-up and hash routing. The shell comes from the service worker cache, the data
// from IndexedDB, so everything here must work with no network at all.
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import { h, fill, toast } from './dom.js';
import * as session from './session.js';
import * as login from './views/login.js';
import * as cases from './views/cases.js';
import * as caseView from './views/case.js';
import * as settings from './views/settings.js';

const VIEWS = { login, cases, case: caseView, settings };
const extraViews = {};
/** Views loaded on first use keep start-up (and the offline list) quick. */
const LAZY = {
  survey: () => import('./views/survey.js'),
  outbox: () => import('./views/outbox.js'),
  'add-investigator': () => import('./views/add-investigator.js'),
  // Desk screens (reviewers, approvers, county supervisors; ≥ 1024 px): fetched when opened,
  // never precached, so the phone's offline shell stays small.
  reviews: () => import('../desk/queue.js'),
  review: () => import('../desk/visit.js'),
  dashboard: () => import('../desk/dashboard.js'),
  checkin: () => import('./views/checkin.js'),
  // A desk screen: outside static/js, so the phone's precached shell never carries it.
  'checkin-desk': () => import('../desk/checkin-desk.js'),
  // Workflow desk screens (intake, review, approval, county; ≥ 1024 px, tablets too).
  work: () => import('../desk/workflow/work.js'),
  'work-case': () => import('../desk/workflow/case.js'),
  // The administrators' webhooks desk (subscriptions, delivery log).
  webhooks: () => import('../desk/webhooks.js'),
  // The county administrators' form desk: published versions, XLSForm import.
  forms: () => import('../desk/forms.js'),
  // The county's retention desk (settings, the purge's dry run, legal holds).
  retention: () => import('../desk/retention.js'),
  intake: () => import('../desk/workflow/intake.js'),
  // Complaints and reports (举报): every report of the area, one report's handling.
  complaints: () => import('../desk/complaints.js'),
  // Sign-ins and two-step sign-in.
  account: () => import('../desk/second-factor.js'),
  // Personal data (issue 22): reveals with a purpose, the supervisor's report, full exports.
  'privacy-household': () => import('../desk/privacy.js'),
  'privacy-report': () => import('../desk/privacy.js'),
  'privacy-exports': () => import('../desk/privacy.js'),
  // The recipient's own view of what is held about their household (PIPL Art. 44-46).
  'my-data': () => import('../recipient/my-data.js'),
};
const DESK_ROLES = ['reviewer', 'approver', 'county_supervisor', 'admin'];
const isDeskUser = () => (session.user()?.roles ?? []).some((role) => DESK_ROLES.includes(role));
// Staff who follow up recipients' check-ins (the desk screen).
const FOLLOWING_UP = ['village_assistant', 'intake_clerk', 'reviewer', 'approver', 'county_supervisor', 'admin'];
// The recipient's screens sign in on their own (phone + PIN) and are all a recipient sees.
const isRecipient = () => (session.user()?.roles ?? []).includes('recipient');
const WORKFLOW_ROLES = ['intake_clerk', 'reviewer', 'approver', 'county_supervisor'];
// Who reads the area's complaints (举报): the township's office and the county.
const COMPLAINT_ROLES = ['intake_clerk', 'reviewer', 'approver', 'county_supervisor', 'admin'];
const isComplaintReader = () => (session.user()?.roles ?? []).some((role) => COMPLAINT_ROLES.includes(role));
const isWorkflowUser = () => (session.user()?.roles ?? []).some((role) => WORKFLOW_ROLES.includes(role));
// Where each role's work is (issue 21): field workers their assigned cases; reviewers,
// approvers and supervisors the review queue; intake clerks the casework to-do list; village
// assistants the check-in follow-ups. Anyone else the case list.
function landing() {
  const roles = session.user()?.roles ?? [];
  if (roles.includes('field_worker')) return 'cases';
  if (isDeskUser()) return 'reviews';
  if (roles.includes('intake_clerk')) return 'work';
  if (roles.includes('village_assistant')) return 'checkin-desk';
  return 'cases';
}

const main = () => document.getElementById('main');
let cleanup = null;
// Set by the survey view while answers are on screen: updates wait for it (STYLE.md).
export const appState = { isFormOpen: false };

export function navigate(path) {
  if (location.hash === `#/${path}`) route(); else location.hash = `#/${path}`;
}

// Desk sign-ins end when idle.
function watchIdle() {
  if (session.user()?.idle_minutes && !session.needsSignIn()) import('../desk/idle.js').then((m) => m.watch(), () => {});
}

async function afterSignIn() {
  watchIdle();
  // Ask the browser to keep drafts, the outbox and photos under storage pressure.
  import('./device/storage.js').then((m) => m.requestPersistence()).catch(() => {});
  const { afterSignIn: hook } = await import('./keys-ui.js').catch(() => ({}));
  if (hook) await hook({ navigate });
  else navigate('cases');
}

async function viewFor(name) {
  if (VIEWS[name]) return VIEWS[name];
  if (!extraViews[name] && LAZY[name]) extraViews[name] = await LAZY[name]();
  return extraViews[name];
}

/** A screen whose module (or one it imports) failed to load: say so, never a blank page. */
const loadFailed = {
  render(root) {
    root.replaceChildren(h('div', { class: 'card stack', id: 'load-error', role: 'alert' },
      h('p', { class: 'form-error' }, t('app.view_failed')),
      h('button', { class: 'btn', type: 'button', onclick: () => location.reload() }, t('app.retry_load')),
      h('a', { class: 'btn', href: '#/cases' }, t('nav.back'))));
    root.dataset.ready = 'true';
  },
};

// A glyph for the eye and words for the screen reader: with the glyph hidden from it, the
// spoken name is the words alone (WCAG 2.5.3: a visible label must be part of the name).
function iconLabel(glyph, words) {
  return [h('span', { 'aria-hidden': 'true' }, glyph), h('span', { class: 'visually-hidden' }, words)];
}

let navigations = 0;

async function route() {
  // A slow screen module (a desk screen on a weak signal) may arrive after the person has
  // moved on: only the newest navigation draws, or the old screen would cover the new one.
  const navigation = ++navigations;
  const [name = 'cases', ...params] = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const opensCheckIn = (location.pathname === '/checkin' || name === 'checkin' || isRecipient()) && name !== 'my-data';
  // Only field workers have assignments of their own: everyone else starts where their work is.
  const wanted = opensCheckIn ? 'checkin' : session.needsSignIn() ? 'login'
    : name === 'cases' ? landing() : name;
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  appState.isFormOpen = false;
  const view = await viewFor(wanted).catch((error) => {
    console.error(`view ${wanted} failed to load`, error);
    return loadFailed;
  }) ?? VIEWS.cases;
  if (navigation !== navigations) return;
  // A fresh element per navigation: a slower screen still rendering (settings waiting on the
  // storage estimate, say) writes into the detached old one, never over the screen now shown.
  const stale = main();
  const root = stale.cloneNode(false);
  stale.replaceWith(root);
  delete root.dataset.ready;
  root.dataset.view = wanted;
  document.body.classList.toggle('signed-in', !session.needsSignIn());
  document.body.classList.toggle('desk', ['reviews', 'review', 'dashboard', 'webhooks', 'forms', 'complaints', 'retention'].includes(wanted));
  if (!document.getElementById('nav-work') !== !(isWorkflowUser() && !session.needsSignIn())
    || !document.getElementById('nav-reviews') !== !(isDeskUser() && !session.needsSignIn())) renderHeader();
  try {
    const done = await view.render(root, { params: params.map(decodeURIComponent), navigate, afterSignIn });
    // Overtaken while drawing (into its now detached element): keep the newer screen's
    // cleanup. The stale one is not run: it may undo what the newer screen just set up
    // (the desk screens share their page classes); at worst a detached list keeps a listener.
    if (navigation === navigations) cleanup = done;
  } catch (error) {
    console.error(error);
    toast(String(error.message || error), 'error');
  }
}

function renderHeader() {
  const header = document.getElementById('top');
  const large = localStorage.getItem('doorstep.large') === '1';
  document.documentElement.classList.toggle('large-text', large);
  fill(header,
    h('a', { class: 'brand', href: '#/cases' }, t('app.short_name')),
    h('span', { class: 'net', id: 'net-state', role: 'status' }),
    isWorkflowUser() && !session.needsSignIn()
      ? h('a', { class: 'icon-btn nav-text', href: '#/work', id: 'nav-work' }, t('nav.work')) : null,
    isDeskUser() && !session.needsSignIn() ? h('a', { class: 'icon-btn nav-text', href: '#/reviews', id: 'nav-reviews' }, t('nav.reviews')) : null,
    isComplaintReader() && !session.needsSignIn()
      ? h('a', { class: 'icon-btn nav-text', href: '#/complaints', id: 'nav-complaints' }, t('nav.complaints')) : null,
    // Named "待发送 3" when three wait: the visible count is part of the spoken name.
    h('a', { class: 'icon-btn', href: '#/outbox', id: 'nav-outbox' },
      ...iconLabel('⇅', t('nav.outbox')), h('span', { class: 'badge', id: 'outbox-count', hidden: true })),
    h('button', { class: 'icon-btn', type: 'button', id: 'toggle-large', 'aria-pressed': String(large),
      onclick: () => {
        localStorage.setItem('doorstep.large', large ? '0' : '1');
        renderHeader();
      } }, ...iconLabel('A+', t('nav.large_text'))),
    h('button', { class: 'icon-btn', type: 'button', id: 'toggle-lang',
      onclick: async () => {
        await i18n.setLang(i18n.getLang() === 'zh-CN' ? 'en' : 'zh-CN');
        renderHeader();
        route();
      } }, ...iconLabel(i18n.getLang() === 'zh-CN' ? 'EN' : '中', t('nav.language'))),
    FOLLOWING_UP.some((role) => (session.user()?.roles ?? []).includes(role)) && !session.needsSignIn()
      ? h('a', { class: 'icon-btn', href: '#/checkin-desk', id: 'nav-checkin-desk' }, ...iconLabel('签', t('desk.title')))
      : null,
    h('a', { class: 'icon-btn', href: '#/settings', id: 'nav-settings', 'aria-label': t('nav.settings') }, '⚙'),
  );
  showNetwork();
}

function showNetwork() {
  const badge = document.getElementById('net-state');
  if (!badge) return;
  badge.textContent = navigator.onLine ? t('net.online') : t('net.offline');
  badge.classList.toggle('is-offline', !navigator.onLine);
}

async function start() {
  await i18n.init();
  await session.init();
  document.title = t('app.name');
  renderHeader();
  window.addEventListener('online', showNetwork);
  window.addEventListener('offline', showNetwork);
  window.addEventListener('hashchange', route);
  // Sign-in screens drive their own flow (PIN setup next); only an ended session re-routes.
  session.onChange((current) => { if (!current || current.needs_sign_in) route(); });
  session.onChange(() => renderHeader());  // the desk link follows who is signed in
  await route();
  watchIdle();
  // Everything below improves the app but is not needed to show the list.
  import('./background.js').then((m) => m.start({ navigate, appState })).catch((error) => {
    console.warn('background start failed', error);
  });
}

start();
