// Visits a reviewer sent back to the team (review tasks from the pull): which are still to
// do, where the survey opens, and which copy of the reviewed answers the fix starts from.
// Pure functions (no DOM, no storage), tested with node --test.

/** "members[1].id_number" (as reviewers name fields) → "members.1.id_number" (the DOM's). */
export const domPath = (field) => field.replace(/\[(\d+)\]\./, '.$1.');

/** Tasks the team still has to act on: not those whose fix already waits in the outbox. */
export function openTasks(tasks, outboxRecords) {
  const sent = new Set(outboxRecords.filter((r) => r?.base_revision).map((r) => `${r.id}@${r.base_revision}`));
  return tasks.filter((task) => !sent.has(`${task.submission_id}@${task.revision}`));
}

/** A commented field in words: "家庭成员 2 · 身份证号" for members[1].id_number. */
export function fieldWords(forms, path, lang = 'zh-CN') {
  const [, name, index, member] = /^(\w+)(?:\[(\d+)\]\.(\w+))?$/.exec(path ?? '') ?? [];
  const words = (f) => (typeof f?.label === 'string' ? f.label : f?.label?.[lang] ?? f?.label?.['zh-CN']);
  const field = forms.flatMap((f) => f.sections ?? []).flatMap((s) => s.fields ?? []).find((f) => f.name === name);
  if (!field) return path;
  if (index === undefined) return words(field) ?? path;
  const inner = (field.fields ?? []).find((f) => f.name === member);
  return `${words(field) ?? name} ${Number(index) + 1} · ${words(inner) ?? member}`;
}

/** Where the survey opens: the section holding the first commented field, focused on it. */
export function startOf(task, definition) {
  const first = (task.comments ?? []).find((c) => c.field);
  if (!first) return { step_name: null, focus: null };
  const name = first.field.split(/[[.]/)[0];
  const section = definition.sections.find((s) => s.fields.some((f) => f.name === name));
  return { step_name: section?.name ?? null, focus: domPath(first.field) };
}

/**
 * The reviewed revision to fix: the phone that sent it still holds it unmasked (full ID
 * numbers the team typed) in its outbox entry, so start from that when it is the same
 * revision; else from the server's copy as this role sees it (a masked ID sent back
 * unchanged means "as registered").
 */
export function reviewedAnswers(task, outboxEntry) {
  const record = outboxEntry?.record;
  const isSame = record?.type === 'visit_submission' && record.id === task.submission_id
    && (record.base_revision ?? 0) + 1 === task.revision;
  const source = isSame ? record : task.visit;
  return { form_id: task.visit.form_id, form_version: task.visit.form_version,
    data: structuredClone(source.data ?? {}), stamps: source.stamps ?? [], photos: source.photos ?? [] };
}
