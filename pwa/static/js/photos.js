// Photos on the phone: read where/when from the original's EXIF, shrink to ≤ 1600 px
// JPEG (q 0.8) for the upload, hash what we upload, keep a thumbnail for the screen.
import * as store from './store.js';
import { readExif } from './domain/exif.js';

export const MAX_EDGE = 1600;
const QUALITY = 0.8;

export async function sha256OfBlob(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function canvasBlob(canvas, type, quality) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('encoding failed'))), type, quality);
  });
}

async function scaled(bitmap, maxEdge, quality) {
  const ratio = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * ratio);
  canvas.height = Math.round(bitmap.height * ratio);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return { blob: await canvasBlob(canvas, 'image/jpeg', quality), width: canvas.width, height: canvas.height };
}

/** Process a camera file; stores the upload copy and returns its photo metadata. */
export async function addPhoto(file, { field = null, fallbackPosition = null } = {}) {
  const exif = readExif(new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer()));
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const upload = await scaled(bitmap, MAX_EDGE, QUALITY);
  const thumb = await scaled(bitmap, 192, 0.7);
  bitmap.close?.();
  const sha256 = await sha256OfBlob(upload.blob);
  // The photo's own EXIF is the best evidence of where it was taken; without it we fall
  // back to the phone's last fix, and say so through accuracy_m.
  const hasGps = exif.lat !== null && exif.lon !== null;
  const meta = {
    sha256, field,
    captured_at: exif.captured_at ?? new Date(file.lastModified || Date.now()).toISOString(),
    lat: hasGps ? exif.lat : fallbackPosition?.lat ?? null,
    lon: hasGps ? exif.lon : fallbackPosition?.lon ?? null,
    accuracy_m: hasGps ? null : fallbackPosition?.accuracy_m ?? null,
  };
  await store.put('photos', { sha256, blob: upload.blob, type: 'image/jpeg', thumb: thumb.blob,
    width: upload.width, height: upload.height, has_exif_gps: hasGps, uploaded: false,
    added_at: new Date().toISOString() });
  return meta;
}

/** Keep a drawn signature (PNG) like a photo: uploaded by hash before the submission. */
export async function addImageBlob(blob) {
  const sha256 = await sha256OfBlob(blob);
  await store.put('photos', { sha256, blob, type: blob.type || 'image/png', thumb: null,
    uploaded: false, added_at: new Date().toISOString() });
  return sha256;
}

export async function thumbnailUrl(sha256) {
  const record = await store.get('photos', sha256);
  if (!record) return null;
  return URL.createObjectURL(record.thumb ?? record.blob);
}
