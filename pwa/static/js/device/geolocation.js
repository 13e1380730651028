// One GPS fix from the phone, in the shape the server stores (lat, lon, accuracy_m,
// captured_at), and the words for each way getting one can fail. Shared by the home-visit
// survey and the recipient check-in.

/** Resolve with one fix; reject with the browser's error (code 1 denied, 2 unavailable, 3 timeout). */
export function position(options = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(Object.assign(new Error('no geolocation'), { code: 2 })); return; }
    navigator.geolocation.getCurrentPosition((p) => resolve({
      lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy),
      captured_at: new Date(p.timestamp || Date.now()).toISOString() }), reject,
    { enableHighAccuracy: true, timeout: 20_000, maximumAge: 30_000, ...options });
  });
}

const GPS_ERROR = { 1: 'survey.gps_denied', 2: 'survey.gps_unavailable', 3: 'survey.gps_timeout' };

/** The i18n key that tells the worker what to do about a failed fix. */
export const gpsErrorKey = (error) => GPS_ERROR[error?.code] ?? 'survey.gps_unavailable';

/** The i18n parameters of "survey.gps_ok" for a fix whose accuracy is under `accuracyKey`. */
export const fixWords = (fix, accuracyKey = 'accuracy_m') => ({
  lat: fix.lat.toFixed(5), lon: fix.lon.toFixed(5), acc: fix[accuracyKey] });
