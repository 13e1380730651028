// Service worker: the app shell offline, nothing personal in its cache.
// - shell assets: precached per version, cache-first
// - /api/*: network only (answers hold personal data; the app keeps what it needs in IndexedDB)
// - navigations: network first, falling back to the cached shell
// - a new version waits until the page says the user agreed (no silent skipWaiting mid-survey)
// - push: a reminder (backend/checkins/push_rules.py Notice) shown as a notification; a tap
//   brings the app forward
const VERSION = new URL(self.location.href).searchParams.get('v') || 'dev';
const CACHE = `doorstep-shell-${VERSION}`;

// Not precached: modules that run only right after a sign-in, which needs the network anyway
// (the PIN and signing-key set-up, adding the second investigator). Fetched when used; the
// shell stays within its 100 KB. tests/unit/js/shell.test.mjs checks that no precached module
// imports one of them statically.
const ONLINE_ONLY = ['/static/js/keys-ui.js', '/static/js/views/add-investigator.js'];

// Every file the app needs to start and work offline. bench/bench_pwa.py sums their gzip
// sizes and tests/unit/js/shell.test.mjs checks each exists, so keep this list exact.
const SHELL_ASSETS = [
  '/',
  '/manifest.webmanifest',
  '/static/css/app.css',
  '/static/i18n/zh-CN.json',
  '/static/i18n/en.json',
  '/static/icons/icon-192.png',
  '/static/icons/maskable-192.png',
  '/static/vendor/idb/idb.js',
  '/static/js/boot.js',
  '/static/js/app.js',
  '/static/js/api.js',
  '/static/js/background.js',
  '/static/js/dom.js',
  '/static/js/i18n.js',
  '/static/js/keys.js',
  '/static/js/lock.js',
  '/static/js/outbox.js',
  '/static/js/photos.js',
  '/static/js/render.js',
  '/static/js/session.js',
  '/static/js/store.js',
  '/static/js/sync.js',
  '/static/js/device/camera.js',
  '/static/js/device/geolocation.js',
  '/static/js/device/push.js',
  '/static/js/device/storage.js',
  '/static/js/domain/backoff.js',
  '/static/js/domain/canonical.js',
  '/static/js/domain/dates.js',
  '/static/js/domain/drain.js',
  '/static/js/domain/device-keys.js',
  '/static/js/domain/exif.js',
  '/static/js/domain/expressions.js',
  '/static/js/domain/form.js',
  '/static/js/domain/prune.js',
  '/static/js/domain/push.js',
  '/static/js/domain/review-tasks.js',
  '/static/js/views/case.js',
  '/static/js/views/checkin.js',
  '/static/js/views/cases.js',
  '/static/js/views/login.js',
  '/static/js/views/outbox.js',
  '/static/js/views/settings.js',
  '/static/js/views/survey.js',
  '/static/js/widgets/fields.js',
  '/static/js/widgets/signature.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `cache: 'reload'` bypasses the HTTP cache so a new version never stores old bytes.
    await cache.addAll(SHELL_ASSETS.map((url) => new Request(url, { cache: 'reload' })));
    // The very first install has nothing to replace: take over at once.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('doorstep-shell-') && n !== CACHE)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return;            // network only, never cached
  if (request.mode === 'navigate') {
    event.respondWith(fetch(request).catch(async () =>
      (await caches.match('/', { cacheName: CACHE })) ?? Response.error()));
    return;
  }
  event.respondWith((async () => {
    const cached = await caches.match(request, { cacheName: CACHE, ignoreSearch: true });
    return cached ?? fetch(request);
  })());
});

// Background Sync: the browser wakes us when connectivity returns; the page owns the
// outbox (IndexedDB + auth), so we ask any open page to drain it.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: 'window' });
    for (const page of pages) page.postMessage({ type: 'drain-outbox' });
  })());
});

// Web Push (the server's reminders): show the notice it sent. The payload is small JSON
// {title, body, url, tag}; a push without one (or unreadable) still shows a reminder.
const FALLBACK_NOTICE = { title: '低保签到提醒', body: '请打开应用查看签到。', url: '/#/checkin', tag: 'checkin' };

function noticeOf(data) {
  let notice = {};
  try { notice = data?.json() ?? {}; } catch { /* not JSON: the fallback words */ }
  // Only a path of this app is opened on a tap, never another site.
  const url = typeof notice.url === 'string' && notice.url.startsWith('/') && !notice.url.startsWith('//')
    ? notice.url : FALLBACK_NOTICE.url;
  return { ...FALLBACK_NOTICE, ...notice, url };
}

self.addEventListener('push', (event) => {
  const notice = noticeOf(event.data);
  event.waitUntil(self.registration.showNotification(String(notice.title), {
    body: String(notice.body), tag: String(notice.tag), lang: 'zh-CN',
    icon: '/static/icons/icon-192.png', data: { url: notice.url },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url ?? FALLBACK_NOTICE.url, self.location.origin);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((client) => new URL(client.url).origin === target.origin);
    if (open) await open.focus();
    else await self.clients.openWindow(target.href);
  })());
});
