// render.js's draw queue (issue 25, ADR 0014): one draw at a time, the newest wins, and
// `data-ready` only while nothing is due. The DOM patching is proved in Chromium
// (tests/e2e/test_steady_taps.py); these builds draw by themselves (return undefined), so
// no DOM is needed beyond a root with a dataset.
import { test } from 'node:test';
import assert from 'node:assert/strict';

globalThis.document ??= { addEventListener() {}, activeElement: null, body: null };
const { screen } = await import('../../../pwa/static/js/render.js');

const later = () => new Promise((resolve) => { setTimeout(resolve, 0); });

function gate() {
  let open;
  const opened = new Promise((resolve) => { open = resolve; });
  return { opened, open };
}

test('one draw at a time: a build never starts while another is running', async () => {
  const root = { dataset: {} };
  const view = screen(root);
  let running = 0;
  let most = 0;
  const first = gate();
  const build = (wait) => async () => {
    running += 1; most = Math.max(most, running);
    await wait;
    running -= 1;
  };
  view.draw(build(first.opened));
  await later();
  const second = view.draw(build(Promise.resolve()));
  first.open();
  await second;
  assert.equal(most, 1);
});

test('the newest wins: draws asked for while one runs collapse into the last', async () => {
  const root = { dataset: {} };
  const view = screen(root);
  const built = [];
  const first = gate();
  view.draw(async () => { built.push('first'); await first.opened; });
  await later();
  view.draw(async () => { built.push('second'); });
  const third = view.draw(async () => { built.push('third'); });
  first.open();
  await third;
  assert.deepEqual(built, ['first', 'third']);
});

test('a draw overtaken while building is dropped: its after() never runs', async () => {
  const root = { dataset: {} };
  const view = screen(root);
  const shown = [];
  const slow = gate();
  view.draw(async () => { await slow.opened; }, { after: () => shown.push('old') });
  await later();
  const newest = view.draw(async () => {}, { after: () => shown.push('new') });
  slow.open();
  await newest;
  assert.deepEqual(shown, ['new']);
});

test('data-ready is off while a draw is due and on once the newest is shown', async () => {
  const root = { dataset: { ready: 'true' } };
  const view = screen(root);
  const slow = gate();
  const drawn = view.draw(async () => { await slow.opened; });
  assert.equal(root.dataset.ready, undefined);
  slow.open();
  await drawn;
  assert.equal(root.dataset.ready, 'true');
});

test('a failing build does not stop the queue', async () => {
  const root = { dataset: {} };
  const view = screen(root);
  const quiet = console.error;
  console.error = () => {};
  try {
    await view.draw(async () => { throw new Error('broken'); });
    assert.equal(root.dataset.ready, 'true');
    let ran = false;
    await view.draw(async () => { ran = true; });
    assert.ok(ran);
  } finally {
    console.error = quiet;
  }
});

test('work() keeps data-ready off from its start until it and the draws it asked for are done', async () => {
  const root = { dataset: { ready: 'true' } };
  const view = screen(root);
  const saved = gate();
  const painted = gate();
  let drawn;
  const answer = view.work(async () => {
    await saved.opened;
    drawn = view.draw(async () => { await painted.opened; });
  });
  assert.equal(root.dataset.ready, undefined, 'off at once, within the tap');
  saved.open();
  await answer;
  assert.equal(root.dataset.ready, undefined, 'still off: its draw is due');
  painted.open();
  await drawn;
  assert.equal(root.dataset.ready, 'true');
});
