// The recipient's reminder control (issue 12): what it shows for each phone and server, what
// one press led to, and the server's VAPID key as the bytes pushManager.subscribe() takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applicationServerKey, pushState, outcomeOf, turnOff, offOutcome, pushButton, PUSH_WORDS } from '../../../pwa/static/js/domain/push.js';

const ready = { online: true, configured: true, supported: true, permission: 'default', subscribed: false };

test('the button is offered only where push can work', () => {
  assert.equal(pushState(ready), 'offer');
  assert.equal(pushState({ ...ready, configured: false }), 'sms_only');  // no VAPID keys
  assert.equal(pushState({ ...ready, supported: false }), 'unsupported');
  assert.equal(pushState({ ...ready, supported: false, online: false, configured: null }), 'unsupported');
  assert.equal(pushState({ ...ready, online: false, configured: null }), 'hidden');
  assert.equal(pushState({ ...ready, configured: null }), 'hidden');  // the key did not load
  assert.equal(pushState({ ...ready, permission: 'denied' }), 'denied');
  assert.equal(pushState({ ...ready, permission: 'granted', subscribed: true }), 'on');
  assert.equal(pushState({ ...ready, permission: 'granted' }), 'offer');
  assert.equal(pushState({ ...ready, permission: 'default', subscribed: true }), 'offer');
});

test('a press ends on, denied, dismissed, unsupported or failed', () => {
  assert.equal(outcomeOf('granted', null, null), 'on');
  assert.equal(outcomeOf('denied', null, null), 'denied');
  assert.equal(outcomeOf('default', null, null), 'dismissed');
  assert.equal(outcomeOf('granted', new Error('push service not available'), null), 'unsupported');
  assert.equal(outcomeOf('granted', null, new Error('offline')), 'failed');
});

// A browser subscription as the Push API hands it out: unsubscribe() answers whether it
// worked, and records that it was called.
function subscription(answer = true) {
  return { calls: 0, async unsubscribe() { this.calls += 1; if (answer instanceof Error) throw answer; return answer; } };
}

test('turning off unsubscribes the browser and deletes the server record', async () => {
  const mine = subscription();
  const deleted = [];
  const result = await turnOff({ subscription: mine, serverId: 'sub-1', deleteOnServer: async (id) => { deleted.push(id); } });
  assert.deepEqual(result, { browser: 'unsubscribed', server: 'deleted' });
  assert.equal(mine.calls, 1);
  assert.deepEqual(deleted, ['sub-1']);
  assert.equal(offOutcome(result), 'off');
});

test('offline, the browser still unsubscribes: the push service 410 clears the server later', async () => {
  const mine = subscription();
  const offline = Object.assign(new Error('offline'), { type: 'network' });
  const result = await turnOff({ subscription: mine, serverId: 'sub-1', deleteOnServer: async () => { throw offline; } });
  assert.deepEqual(result, { browser: 'unsubscribed', server: 'kept' });
  assert.equal(mine.calls, 1);
  assert.equal(offOutcome(result), 'off');
});

test('a server record already gone counts as deleted; a browser that refuses is not off', async () => {
  const gone = Object.assign(new Error('gone'), { type: 'push-subscription-not-found' });
  const refused = await turnOff({ subscription: subscription(false), serverId: 'sub-1', deleteOnServer: async () => { throw gone; } });
  assert.deepEqual(refused, { browser: 'failed', server: 'deleted' });
  assert.equal(offOutcome(refused), 'off_failed');
  const threw = await turnOff({ subscription: subscription(new Error('no service')), serverId: null, deleteOnServer: async () => assert.fail('no id, no DELETE') });
  assert.deepEqual(threw, { browser: 'failed', server: 'none' });
});

test('without a subscription or a server id nothing is called, and that is off', async () => {
  const result = await turnOff({ subscription: null, serverId: undefined, deleteOnServer: async () => assert.fail('no DELETE') });
  assert.deepEqual(result, { browser: 'none', server: 'none' });
  assert.equal(offOutcome(result), 'off');
});

test('the control offers turning on, or off once on', () => {
  for (const state of ['offer', 'dismissed', 'failed', 'off']) assert.equal(pushButton(state), 'enable', state);
  for (const state of ['on', 'off_failed']) assert.equal(pushButton(state), 'disable', state);
  for (const state of ['hidden', 'sms_only', 'unsupported', 'denied']) assert.equal(pushButton(state), null, state);
});

test('every state has words in both languages', () => {
  for (const lang of ['zh-CN', 'en']) {
    const words = JSON.parse(readFileSync(new URL(`../../../pwa/static/i18n/${lang}.json`, import.meta.url), 'utf8'));
    for (const key of Object.values(PUSH_WORDS)) assert.ok(words[key], `${lang}: ${key}`);
  }
  const zh = JSON.parse(readFileSync(new URL('../../../pwa/static/i18n/zh-CN.json', import.meta.url), 'utf8'));
  assert.equal(zh[PUSH_WORDS.unsupported], '这部手机不能接收推送，我们会用短信提醒您。');
  assert.equal(zh['checkin.push_disable'], '关闭提醒通知');
});

test('the base64url key becomes its 65 bytes', () => {
  const bytes = Uint8Array.from({ length: 65 }, (_, i) => (i * 37 + 4) % 256);
  const base64url = Buffer.from(bytes).toString('base64url');
  assert.ok(!base64url.includes('='));
  assert.deepEqual(applicationServerKey(base64url), bytes);
});
