// Runs before the app's modules: exposes the deployed asset version (the page's CSP
// allows no inline script, so the template passes it in a meta tag).
window.DOORSTEP_ASSET_VERSION = document.querySelector('meta[name="doorstep-asset-version"]')
  ?.content || '';
