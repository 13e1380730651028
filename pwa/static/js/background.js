// Things that run beside the screens: the service worker and its updates, the
// outbox drain, the inactivity lock. Loaded after the first screen is up.
import { h } from './dom.js';
import { t } from './i18n.js';

export async function start({ navigate, appState }) {
  registerServiceWorker(appState);
  const extras = await Promise.allSettled([import('./outbox.js'), import('./lock.js')]);
  for (const result of extras) {
    if (result.status === 'fulfilled' && result.value.start) result.value.start({ navigate, appState });
  }
  void navigate;
}

function registerServiceWorker(appState) {
  if (!('serviceWorker' in navigator)) return;
  const version = window.DOORSTEP_ASSET_VERSION || 'dev';
  navigator.serviceWorker.register(`/sw.js?v=${version}`, { scope: '/' }).then((registration) => {
    const offer = (worker) => offerUpdate(worker, appState);
    if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
    registration.addEventListener('updatefound', () => {
      const incoming = registration.installing;
      incoming?.addEventListener('statechange', () => {
        // Only an *update* needs the user's consent; the very first install just works.
        if (incoming.state === 'installed' && navigator.serviceWorker.controller) offer(incoming);
      });
    });
  }).catch((error) => console.warn('service worker registration failed', error));
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading || !window.DOORSTEP_UPDATE_ACCEPTED) return;
    reloading = true;
    location.reload();
  });
}

function offerUpdate(worker, appState) {
  const banner = document.getElementById('banner');
  const apply = h('button', { class: 'btn btn-primary', type: 'button', id: 'apply-update', onclick: () => {
    // Never swap the code under an open survey: the worker finishes the form first.
    if (appState.isFormOpen) { banner.querySelector('.why').textContent = t('update.finish_form'); return; }
    window.DOORSTEP_UPDATE_ACCEPTED = true;
    worker.postMessage({ type: 'skip-waiting' });
  } }, t('update.apply'));
  banner.replaceChildren(h('span', {}, t('update.available')), apply, h('span', { class: 'why hint' }));
  banner.hidden = false;
}
