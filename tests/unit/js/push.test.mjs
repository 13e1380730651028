// The recipient's reminder control (issue 12): what it shows for each phone and server, what
// one press led to, and the server's VAPID key as the bytes pushManager.subscribe() takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applicationServerKey, pushState, outcomeOf, PUSH_WORDS } from '../../../pwa/static/js/domain/push.js';

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

test('every state has words in both languages', () => {
  for (const lang of ['zh-CN', 'en']) {
    const words = JSON.parse(readFileSync(new URL(`../../../pwa/static/i18n/${lang}.json`, import.meta.url), 'utf8'));
    for (const key of Object.values(PUSH_WORDS)) assert.ok(words[key], `${lang}: ${key}`);
  }
  const zh = JSON.parse(readFileSync(new URL('../../../pwa/static/i18n/zh-CN.json', import.meta.url), 'utf8'));
  assert.equal(zh[PUSH_WORDS.unsupported], '这部手机不能接收推送，我们会用短信提醒您。');
});

test('the base64url key becomes its 65 bytes', () => {
  const bytes = Uint8Array.from({ length: 65 }, (_, i) => (i * 37 + 4) % 256);
  const base64url = Buffer.from(bytes).toString('base64url');
  assert.ok(!base64url.includes('='));
  assert.deepEqual(applicationServerKey(base64url), bytes);
});
