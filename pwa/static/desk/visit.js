// One visit's evidence for a reviewer: the answers (masked for the role), photos with
// their EXIF time and place beside the visit's stamps, a map against the registered home,
// the attestations, the integrity flags with their thresholds, a timeline, the diff between
// revisions, comments, and the decision (approve, has issues, reject, re-visit) sent with
// If-Match: a 412 means someone else changed it, and the screen says so.
import { h, fill, toast } from '../js/dom.js';
import { t } from '../js/i18n.js';
import { api } from '../js/api.js';
import {
  prepare, stateWords, flagWords, flagSentence, when, deskNav, fieldWords, fieldOf, answerText, getWithEtag, blobUrl,
  issueDialog, moveReview, reviewProblem,
} from './common.js';
import { LEAFLET_CSS, drawMap, legend, metres } from './map.js';

/** A jurisdiction setting's name in words (the name itself when unknown). */
function settingWords(name) {
  const text = t(`review.setting.${name}`);
  return text === `review.setting.${name}` ? name : text;
}

const ACTIONS = [['approved', 'review.approve', 'btn-primary'], ['has_issues', 'review.has_issues', ''],
  ['rejected', 'review.reject', 'btn-danger'], ['revisit_requested', 'review.request_revisit', '']];

/** Every answered field as [path, value]: top-level fields, then each repeat row's fields. */
function answerRows(definition, answers) {
  const rows = [];
  const known = new Set();
  for (const field of (definition?.sections ?? []).flatMap((s) => s.fields ?? [])) {
    known.add(field.name);
    const value = answers[field.name];
    if (field.type === 'repeat' || (Array.isArray(value) && value.every((v) => v && typeof v === 'object'))) {
      // In the form's order (姓名 first), then what the phone adds (confirmed on site), then
      // anything else; never the roster's internal id.
      const order = (field.fields ?? []).map((f) => f.name);
      (value ?? []).forEach((entry, index) => {
        const keys = Object.keys(entry ?? {}).filter((k) => k !== 'registered_member_id');
        const rank = (k) => (order.includes(k) ? order.indexOf(k) : order.length + (k === 'confirmed_on_site' ? 0 : 1));
        for (const member of keys.sort((a, b) => rank(a) - rank(b))) {
          rows.push([`${field.name}[${index}].${member}`, entry[member]]);
        }
      });
    } else if (value !== undefined && field.type !== 'note') {
      rows.push([field.name, value]);
    }
  }
  for (const [name, value] of Object.entries(answers)) if (!known.has(name)) rows.push([name, value]);
  return rows;
}

export async function render(root, { params, navigate }) {
  await prepare([LEAFLET_CSS]);
  const id = params[0];
  let evidence;
  let etag;
  let definition = null;
  let diff = null;
  let map = null;

  async function load() {
    ({ body: evidence, etag } = await getWithEtag(`/api/reviews/${encodeURIComponent(id)}/evidence`));
    [definition, diff] = await Promise.all([
      definition ?? api.get(`/api/forms/${encodeURIComponent(evidence.form_id)}/${evidence.form_version}`).catch(() => null),
      evidence.revision > 1 ? api.get(`/api/reviews/${encodeURIComponent(id)}/diff`).catch(() => null) : null,
    ]);
  }

  const alertBox = h('div', { id: 'review-alert', role: 'alert', class: 'review-alert', hidden: true });
  function showProblem(error) {
    if (error?.status === 412 || error?.type === 'stale-version') {
      alertBox.replaceChildren(h('p', {}, t('review.stale')),
        h('button', { class: 'btn btn-primary', type: 'button', id: 'review-reload', onclick: () => draw(true) }, t('review.reload')));
      alertBox.hidden = false;
      alertBox.querySelector('button').focus();
    } else {
      toast(reviewProblem(error), 'error');
    }
  }

  const fieldChoices = () => answerRows(definition, evidence.answers ?? {}).map(([path]) => [path, fieldWords(definition, path)]);

  async function act(to, preset = null) {
    if (!evidence.allowed.includes(to)) return;
    let comments = [];
    if (to !== 'approved') {
      const issue = await issueDialog(fieldChoices(), preset);
      if (!issue) return;
      comments = [issue];
    }
    try {
      ({ etag } = await moveReview(id, etag, to, comments));
      toast(t('review.moved', { state: stateWords(to) }));
      await draw(true);
    } catch (error) {
      showProblem(error);
    }
  }

  async function addComment(field, text) {
    try {
      const response = await api.post(`/api/reviews/${encodeURIComponent(id)}/comments`, { field: field || null, text },
        { headers: { 'If-Match': etag }, retries: 0, raw: true });
      etag = response.headers.get('ETag');
      toast(t('review.comment_saved'));
      await draw(true);
    } catch (error) {
      showProblem(error);
    }
  }

  function commentsOn(path) {
    return (evidence.comments ?? []).filter((c) => c.field === path && c.revision === evidence.revision);
  }

  function answersSection() {
    const canAct = evidence.allowed.includes('has_issues');
    return h('section', { class: 'panel', id: 'answers', 'aria-labelledby': 'answers-title' },
      h('h2', { id: 'answers-title' }, t('review.answers'), ' · ', t('review.revision', { n: evidence.revision })),
      h('table', { class: 'answers' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('review.field')), h('th', { scope: 'col' }, t('review.answer')),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('review.comments'))))),
        h('tbody', {}, answerRows(definition, evidence.answers ?? {}).map(([path, value]) => h('tr', { dataset: { field: path } },
          h('th', { scope: 'row' }, fieldWords(definition, path)),
          h('td', {}, answerText(value, fieldOf(definition, path)), commentsOn(path).map((c) => h('p', { class: 'review-comment' }, c.text))),
          h('td', {}, canAct ? h('button', { class: 'btn btn-small', type: 'button', dataset: { issueFor: path },
            'aria-label': `${t('review.field_issue')}: ${fieldWords(definition, path)}`,
            onclick: () => act('has_issues', path) }, t('review.field_issue')) : null))))));
  }

  function stampsSection() {
    const stamp = (kind) => (evidence.stamps ?? []).find((s) => s.kind === kind);
    const line = (kind, at) => h('tr', {}, h('th', { scope: 'row' }, t(`review.${kind === 'start' ? 'started' : 'ended'}`)),
      h('td', {}, when(at ?? stamp(kind)?.captured_at)), h('td', {}, stamp(kind) ? `${stamp(kind).lat.toFixed(5)}, ${stamp(kind).lon.toFixed(5)}` : '—'),
      h('td', {}, metres(stamp(kind)?.distance_from_home_m)));
    return h('table', { class: 'stamps', id: 'visit-stamps' }, h('caption', {}, t('review.visit_stamps')),
      h('tbody', {}, line('start', evidence.started_at), line('end', evidence.ended_at),
        h('tr', {}, h('th', { scope: 'row' }, t('review.duration')),
          h('td', { colspan: 3 }, evidence.duration_minutes == null ? '—' : t('review.minutes', { n: Math.round(evidence.duration_minutes) })))));
  }

  function photosSection() {
    const list = h('ul', { class: 'photo-list', id: 'photo-list' });
    (evidence.photos ?? []).forEach((photo, index) => {
      const n = index + 1;
      const button = h('button', { class: 'photo-thumb', type: 'button', disabled: !photo.is_uploaded, dataset: { sha: photo.sha256 },
        'aria-label': t('review.photo_full', { n }), onclick: () => showFull(photo, n) },
      photo.is_uploaded ? null : t('review.photo_not_uploaded'));
      if (photo.is_uploaded) {
        blobUrl(photo.thumbnail_url).then((url) => button.append(h('img', { src: url, alt: t('review.photo_alt', { n }) })))
          .catch(() => button.append(t('review.photo_not_uploaded')));
      }
      list.append(h('li', { class: 'photo-item' }, button, photoFacts(photo, n)));
    });
    return h('section', { class: 'panel', id: 'photos', 'aria-labelledby': 'photos-title' },
      h('h2', { id: 'photos-title' }, t('review.photos')), stampsSection(), list);
  }

  /** What the thumbnail and the full-size photo both say: its field, the camera's and the
   *  phone's time and place, and the distance from home (issue 21: the full size dropped them). */
  function photoFacts(photo, n) {
    const place = (lat, lon) => (lat == null ? '—' : `${lat.toFixed(5)}, ${lon.toFixed(5)}`);
    return h('dl', { class: 'photo-facts' },
      h('dt', {}, t('review.photo_n', { n })), h('dd', {}, photo.field ? fieldWords(definition, photo.field) : ''),
      h('dt', {}, t('review.photo_exif')), h('dd', { class: 'exif' }, when(photo.exif_taken_at), ' · ', place(photo.exif_lat, photo.exif_lon)),
      h('dt', {}, t('review.photo_device')), h('dd', { class: 'device' }, when(photo.device_captured_at), ' · ', place(photo.device_lat, photo.device_lon)),
      h('dt', {}, t('review.photo_distance')), h('dd', { class: 'distance' }, metres(photo.distance_from_home_m)));
  }

  /** The full-size photo: the untouched original, or the server's watermarked copy for print
   *  (verified facts only: camera and server time, EXIF place, case number, team, hash). */
  async function showFull(photo, n) {
    const img = h('img', { alt: t('review.photo_alt', { n }), class: 'photo-full' });
    const choose = async (version) => {
      dialog.dataset.loaded = 'false';
      const path = version === 'watermarked'
        ? `${photo.url}/watermarked?lang=${document.documentElement.lang === 'en' ? 'en' : 'zh-CN'}` : photo.url;
      const old = img.src;
      try {
        img.src = await blobUrl(path);
      } catch (error) {
        toast(reviewProblem(error), 'error');
      }
      if (old) URL.revokeObjectURL(old);
      dialog.dataset.version = version;
      dialog.dataset.loaded = 'true';
    };
    const versions = h('fieldset', { class: 'photo-version', id: 'photo-version' },
      h('legend', {}, t('review.photo_version')),
      ['plain', 'watermarked'].map((version) => h('label', { class: 'photo-version-choice' },
        h('input', { type: 'radio', name: 'photo-version', value: version, id: `photo-${version}`,
          checked: version === 'plain', onchange: () => choose(version) }), ` ${t(`review.photo_${version}`)}`)));
    const dialog = h('dialog', { class: 'desk-dialog photo-dialog', id: 'photo-dialog', 'aria-label': t('review.photo_n', { n }) },
      versions, img, photoFacts(photo, n),
      h('button', { class: 'btn', type: 'button', id: 'photo-close', onclick: () => dialog.close() }, t('review.close')));
    dialog.addEventListener('close', () => { URL.revokeObjectURL(img.src); dialog.remove(); });
    document.body.append(dialog);
    dialog.showModal();
    await choose('plain');
  }

  function mapSection() {
    const host = h('div', { class: 'evidence-map', id: 'evidence-map', role: 'region', 'aria-label': t('review.map') });
    return h('section', { class: 'panel', id: 'map', 'aria-labelledby': 'map-title' },
      h('h2', { id: 'map-title' }, t('review.map')),
      evidence.home ? null : h('p', { class: 'warn' }, t('review.map_no_home')),
      document.querySelector('meta[name="doorstep-map-tiles"]')?.content ? null : h('p', { class: 'muted' }, t('review.map_plain')),
      host);
  }

  /** The stamps a flag is about: one (far from home, poor accuracy) or a pair (team apart). */
  const whichStamps = (flag) => {
    const p = flag.parameters ?? {};
    return [p, p.stamp_a, p.stamp_b].filter((ref) => ref && Number.isInteger(ref.stamp_index));
  };

  /** Which stamp, so the same flag twice reads apart (issue 21): "第 2 个定位（结束定位），
   *  2026年12月5日 10:40，张三的手机". */
  function stampWords(ref) {
    const signer = (evidence.attestations ?? []).find((a) => a.user_id === ref.user_id)?.name;
    return t('review.which_stamp', { n: ref.stamp_index + 1, kind: t(`review.stamp_kind.${ref.kind}`), at: when(ref.captured_at),
      who: signer ? t('review.stamp_by', { name: signer }) : '' });
  }

  function flagsSection() {
    const flags = (evidence.flags ?? []).filter((f) => f.revision === evidence.revision);
    return h('section', { class: 'panel', id: 'flags', 'aria-labelledby': 'flags-title' },
      h('h2', { id: 'flags-title' }, t('review.flags')),
      flags.length ? h('ul', { class: 'flag-list' }, flags.map((flag) => h('li', { class: `flag flag-${flag.severity}`, dataset: { code: flag.code } },
        h('strong', {}, `${t(`review.severity.${flag.severity}`)} · ${flagWords(flag.code)}`),
        h('p', { class: 'flag-sentence' }, flagSentence(flag)),
        whichStamps(flag).map((ref) => h('p', { class: 'flag-stamp' }, stampWords(ref))),
        Object.keys(flag.thresholds ?? {}).length ? h('p', { class: 'flag-threshold' }, `${t('review.threshold')}: `,
          Object.entries(flag.thresholds).map(([name, value]) => `${settingWords(name)} = ${value}`).join('; ')) : null)))
        : h('p', { class: 'muted' }, t('review.no_flags_here')));
  }

  function attestationsSection() {
    return h('section', { class: 'panel', id: 'attestations', 'aria-labelledby': 'att-title' },
      h('h2', { id: 'att-title' }, t('review.attestations')),
      !(evidence.attestations ?? []).length ? h('p', { class: 'empty', id: 'no-attestations' }, t('review.no_attestations')) :
      h('table', {}, h('thead', {}, h('tr', {}, ['signer', 'key', 'signed_at', 'revision_column'].map((c) => h('th', { scope: 'col' }, t(`review.${c}`))))),
      h('tbody', {}, (evidence.attestations ?? []).map((a) => h('tr', { dataset: { user: a.user_id } },
        h('td', {}, a.name ?? a.user_id),
        h('td', { class: 'mono' }, (a.key_id ?? '—').slice(0, 12)),
        h('td', {}, when(a.signed_at)),
        h('td', {}, a.revision ?? '—', ' · ', a.is_signature_valid ? t('review.valid') : h('strong', { class: 'bad' }, t('review.invalid')),
          a.is_current_revision ? '' : ` · ${t('review.stale_signature')}`))))));
  }

  function timelineSection() {
    return h('section', { class: 'panel', id: 'timeline', 'aria-labelledby': 'timeline-title' },
      h('h2', { id: 'timeline-title' }, t('review.timeline')),
      h('ol', { class: 'timeline' }, (evidence.timeline ?? []).map((e) => h('li', { dataset: { event: e.event } },
        h('time', {}, when(e.at)), ' ',
        t(`review.event.${e.event}`, { n: e.revision ?? '', state: e.state ? stateWords(e.state) : '' }),
        e.field ? ` · ${fieldWords(definition, e.field)}` : '', e.actor_name ? ` · ${e.actor_name}` : ''))));
  }

  function diffSection() {
    if (!diff) return null;
    return h('section', { class: 'panel', id: 'diff', 'aria-labelledby': 'diff-title' },
      h('h2', { id: 'diff-title' }, t('review.diff'), ' · ', t('review.diff_title', { from: diff.from_revision, to: diff.to_revision })),
      diff.changes.length ? h('table', { class: 'diff' },
        h('thead', {}, h('tr', {}, ['field', 'before', 'after'].map((c) => h('th', { scope: 'col' }, t(`review.${c}`))))),
        h('tbody', {}, diff.changes.map((c) => h('tr', { class: `change-${c.change}`, dataset: { field: c.field } },
          h('th', { scope: 'row' }, fieldWords(definition, c.field), h('span', { class: 'muted' }, ` (${t(`review.change.${c.change}`)})`)),
          h('td', { class: 'before' }, answerText(c.before, fieldOf(definition, c.field))),
          h('td', { class: 'after' }, answerText(c.after, fieldOf(definition, c.field)))))))
        : h('p', { class: 'muted' }, t('review.no_changes')));
  }

  function commentsSection() {
    const canComment = evidence.allowed.length > 0 || (evidence.can_comment ?? false);
    const field = h('select', { id: 'comment-field' }, h('option', { value: '' }, t('review.issue_whole')),
      fieldChoices().map(([path, words]) => h('option', { value: path }, words)));
    const text = h('textarea', { id: 'comment-text', rows: 2, maxlength: 2000 });
    return h('section', { class: 'panel', id: 'comments', 'aria-labelledby': 'comments-title' },
      h('h2', { id: 'comments-title' }, t('review.comments')),
      (evidence.comments ?? []).length ? h('ul', { class: 'comment-list' }, evidence.comments.map((c) => h('li', {},
        h('span', { class: 'muted' }, `${when(c.created_at)} · ${c.author_name ?? ''} · ${t('review.revision', { n: c.revision })}`),
        c.field ? h('strong', {}, ` ${fieldWords(definition, c.field)}：`) : ' ', c.text)))
        : h('p', { class: 'muted' }, t('review.no_comments')),
      canComment ? h('form', { class: 'comment-form stack', onsubmit: (event) => {
        event.preventDefault();
        if (text.value.trim()) addComment(field.value, text.value.trim());
      } }, h('label', { for: 'comment-field' }, t('review.issue_field')), field,
      h('label', { for: 'comment-text' }, t('review.issue_text')), text,
      h('button', { class: 'btn', type: 'submit', id: 'comment-add' }, t('review.comment_add'))) : null);
  }

  function actionsBar() {
    return h('div', { class: 'review-actions', id: 'review-actions', role: 'group', 'aria-label': t('review.actions') },
      h('span', { class: `state-chip state-${evidence.state}`, id: 'review-state', dataset: { state: evidence.state } },
        t('review.state_now', { state: stateWords(evidence.state) })),
      ACTIONS.filter(([to]) => evidence.allowed.includes(to)).map(([to, words, style]) => h('button', {
        class: `btn ${style}`, type: 'button', id: `act-${to}`, onclick: () => act(to) }, t(words))));
  }

  async function draw(reload = false) {
    if (reload || !evidence) {
      try { await load(); } catch (error) {
        fill(root, deskNav('reviews'), h('p', { class: 'form-error', role: 'alert' }, reviewProblem(error)),
          h('a', { class: 'btn', href: '#/reviews' }, t('review.back_to_queue')));
        root.dataset.ready = 'true';
        return;
      }
    }
    map?.remove();
    alertBox.hidden = true;
    fill(root, deskNav('reviews'),
      h('a', { class: 'back', href: '#/reviews' }, `‹ ${t('review.back_to_queue')}`),
      h('h1', { id: 'visit-title' }, t('review.visit_title'), evidence.head_name ? ` · ${evidence.head_name}` : ''),
      h('p', { class: 'keys-help', id: 'keys-help' }, t('review.keys_help_visit')),
      alertBox, actionsBar(),
      h('div', { class: 'evidence-grid' },
        h('div', { class: 'col' }, flagsSection(), mapSection(), photosSection()),
        h('div', { class: 'col' }, diffSection(), answersSection(), commentsSection(), attestationsSection(), timelineSection())));
    const drawn = drawMap(root.querySelector('#evidence-map'), evidence);
    map = drawn.map;
    root.querySelector('#evidence-map').after(legend(drawn.points));
    root.dataset.ready = 'true';
    root.dataset.state = evidence.state;
  }

  function neighbour(step) {
    const ids = JSON.parse(sessionStorage.getItem('doorstep.queue.ids') ?? '[]');
    const next = ids[ids.indexOf(id) + step];
    if (next) navigate(`review/${next}`);
  }

  const onKey = (event) => {
    if (event.target.closest?.('input, select, textarea, dialog, button') || event.altKey || event.ctrlKey || event.metaKey) return;
    const keys = { a: () => act('approved'), i: () => act('has_issues'), n: () => neighbour(1), p: () => neighbour(-1),
      Escape: () => navigate('reviews') };
    if (!keys[event.key]) return;
    event.preventDefault();
    keys[event.key]();
  };
  document.addEventListener('keydown', onKey);
  await draw(true);
  return () => { document.removeEventListener('keydown', onKey); map?.remove(); };
}
