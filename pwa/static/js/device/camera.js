// The camera: a "take photo" button that opens the rear camera, and the step that turns a
// camera file into stored photo evidence (photos.js) with a fallback position.
import { h, toast, dismiss } from '../dom.js';
import { t } from '../i18n.js';
import { addPhoto } from '../photos.js';
import { spaceLow } from './storage.js';

/**
 * A label styled as a button around a hidden file input that asks for the rear camera.
 * `onFiles(files)` gets the chosen files; other attributes (id, dataset, multiple) go to the input.
 */
export function cameraButton({ className = 'btn', onFiles, ...input }) {
  // Checked as the button is drawn and again as it is tapped, so the worker hears that
  // space is short before the photo is taken, not after it fails to save.
  const warning = h('p', { class: 'warn storage-low', role: 'alert', hidden: true }, t('survey.space_low'));
  const check = (shown) => spaceLow().then((low) => { shown.hidden = !low; }).catch(() => {})
    .finally(() => { shown.dataset.checked = 'true'; });
  check(warning);
  return h('div', { class: 'camera' }, warning, h('label', { class: className,
    onclick: (event) => check(event.currentTarget.closest('.camera').querySelector('.storage-low')) }, t('survey.take_photo'),
    h('input', { type: 'file', accept: 'image/*', capture: 'environment', hidden: true, ...input,
      onchange: async (event) => {
        const files = Array.from(event.target.files);
        if (files.length) await onFiles(files);
      } })));
}

/**
 * Store one camera file as evidence and return its metadata. Without EXIF GPS the photo
 * falls back to `lastFix` (the phone's last stamp), and the worker is told.
 */
export async function capturePhoto(file, { field = null, lastFix = null } = {}) {
  toast(t('survey.photo_processing'), 'info', { key: 'photo' });
  try {
    const meta = await addPhoto(file, { field, fallbackPosition: lastFix });
    if (meta.lat === null) toast(t('survey.photo_no_gps'), 'info', { key: 'photo' }); else dismiss('photo');
    return meta;
  } catch (error) {
    dismiss('photo');
    throw error;
  }
}
