// The public report form (举报): no sign-in, no framework. Words come from the page's
// data-msg-* attributes (rendered in the reader's language); what anyone typed is only
// ever set as text, never as markup.
const main = document.getElementById('report');
const form = document.getElementById('report-form');
const error = document.getElementById('report-error');
const done = document.getElementById('report-done');
const send = document.getElementById('report-send');
const msg = (name) => main.dataset[`msg${name.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`] ?? '';
const largeText = document.getElementById('large-text');

largeText.addEventListener('click', () => {
  const on = !document.documentElement.classList.contains('large-text');
  document.documentElement.classList.toggle('large-text', on);
  largeText.setAttribute('aria-pressed', String(on));
});

const anonymous = document.getElementById('anonymous');
anonymous.addEventListener('change', () => {
  document.getElementById('name-field').hidden = anonymous.checked;
});

// One id per report, kept until it is received, so a resend after a lost answer files it once.
let reportId = crypto.randomUUID();

async function loadTownships() {
  const select = document.getElementById('township');
  try {
    const response = await fetch('/api/public/complaint-townships');
    const { items } = await response.json();
    for (const township of items) {
      const option = document.createElement('option');
      option.value = township.code;
      option.textContent = township.name;
      select.append(option);
    }
  } catch {
    error.textContent = msg('other');
  }
  main.dataset.ready = 'true';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const data = new FormData(form);
  const text = (name) => (data.get(name) ?? '').toString().trim();
  if (!text('township_code')) { error.textContent = msg('township'); form.township_code.focus(); return; }
  if (!text('content')) { error.textContent = msg('content'); form.content.focus(); return; }
  const body = {
    id: reportId, township_code: text('township_code'), about: text('about') || null,
    content: text('content'), is_anonymous: anonymous.checked,
    reporter_name: anonymous.checked ? null : text('reporter_name') || null,
    reporter_contact: text('reporter_contact') || null, reply_channel: text('reply_channel') || null,
  };
  send.disabled = true;
  send.textContent = msg('sending');
  try {
    const response = await fetch('/api/public/complaints', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = msg(['validation-failed', 'too-many-requests', 'body-too-large'].includes(answer.type) ? answer.type : 'other');
      return;
    }
    done.textContent = msg('done').replace('{number}', answer.number).replace('{due}', answer.reply_due_on);
    done.dataset.number = answer.number;
    done.hidden = false;
    form.hidden = true;
    reportId = crypto.randomUUID();
    done.focus();
  } catch {
    error.textContent = msg('other');
  } finally {
    send.disabled = false;
    send.textContent = form.dataset.submitWords ?? send.textContent;
  }
});

form.dataset.submitWords = send.textContent;
loadTownships();
