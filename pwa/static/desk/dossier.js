// The household's file (一户一档) on the desk: ask for it, watch the job's progress, download
// the PDF when it is done. The file is built by the job worker, masked for the one who asked
// (only they may download it). One panel per case screen, kept across its redraws.
import { h, fill } from '../js/dom.js';
import { t } from '../js/i18n.js';
import { api } from '../js/api.js';
import { download } from './common.js';

export const DOSSIER_ROLES = ['reviewer', 'approver', 'county_supervisor', 'admin'];
const POLL_MS = 1000;

/** The panel for one household: a section element that draws itself as the job moves. */
export function dossierPanel(householdId, problemWords) {
  const section = h('section', { class: 'wf-panel dossier-panel', id: 'dossier', 'aria-labelledby': 'dossier-title',
    dataset: { dossierState: 'none' } });
  const status = h('p', { id: 'dossier-status', role: 'status', 'aria-live': 'polite' });
  let job = null;
  let timer = null;

  function draw() {
    section.dataset.dossierState = job?.state ?? 'none';
    const busy = job && (job.state === 'queued' || job.state === 'building');
    const build = h('button', { class: 'btn btn-primary', type: 'button', id: 'dossier-build', disabled: Boolean(busy),
      onclick: ask }, t('dossier.build'));
    const parts = [h('h2', { id: 'dossier-title' }, t('dossier.title')), h('p', { class: 'hint' }, t('dossier.help')), build];
    if (job) {
      status.textContent = job.state === 'failed' ? t('dossier.failed')
        : t(`dossier.state.${job.state}`, { n: job.progress });
      parts.push(h('label', { for: 'dossier-progress', class: 'sr-only' }, t('dossier.progress_label')),
        h('progress', { id: 'dossier-progress', max: 100, value: job.progress }), status);
      if (job.state === 'done') {
        parts.push(h('button', { class: 'btn', type: 'button', id: 'dossier-download',
          onclick: () => download(job.file_url, `household-file-${job.id.slice(0, 8)}.pdf`).catch(showProblem) },
        t('dossier.download', { pages: job.page_count, size: (job.byte_size / 1e6).toFixed(1) })));
      }
    }
    fill(section, ...parts);
  }

  function showProblem(error) {
    status.textContent = problemWords(error);
    section.append(status);
  }

  async function poll() {
    timer = null;
    try {
      job = await api.get(`/api/dossiers/${encodeURIComponent(job.id)}`);
    } catch (error) {
      showProblem(error);
      return;
    }
    draw();
    if (job.state === 'queued' || job.state === 'building') timer = setTimeout(poll, POLL_MS);
  }

  async function ask() {
    try {
      job = await api.post(`/api/households/${encodeURIComponent(householdId)}/dossiers`,
        { lang: document.documentElement.lang === 'en' ? 'en' : 'zh-CN' }, { retries: 0 });
    } catch (error) {
      showProblem(error);
      return;
    }
    draw();
    if (job.state === 'queued' || job.state === 'building') timer = setTimeout(poll, POLL_MS);
    else section.querySelector('#dossier-download')?.focus();
  }

  draw();
  section.stop = () => { if (timer) clearTimeout(timer); };
  return section;
}
