// Read where and when a JPEG was taken from its EXIF (APP1 → TIFF → IFD0 → Exif/GPS IFDs).
// We downscale photos on the phone with <canvas>, which drops EXIF, so we read these
// facts from the original first and send them beside the photo.

const TAG = {
  EXIF_IFD: 0x8769, GPS_IFD: 0x8825, DATE_TIME: 0x0132,
  DATE_TIME_ORIGINAL: 0x9003, OFFSET_TIME_ORIGINAL: 0x9011,
  GPS_LAT_REF: 1, GPS_LAT: 2, GPS_LON_REF: 3, GPS_LON: 4,
};
const TYPE_SIZE = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };

/** Where the TIFF header of the Exif APP1 segment starts, or -1. */
function findTiff(view) {
  if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return -1;
  let offset = 2;
  while (offset + 4 <= view.byteLength) {
    if (view.getUint8(offset) !== 0xff) return -1;
    const marker = view.getUint8(offset + 1);
    if (marker === 0xd9 || marker === 0xda) return -1;  // end of image / start of scan
    const length = view.getUint16(offset + 2);
    if (marker === 0xe1 && offset + 10 <= view.byteLength
        && view.getUint32(offset + 4) === 0x45786966 && view.getUint16(offset + 8) === 0) {
      return offset + 10;                                  // after "Exif\0\0"
    }
    offset += 2 + length;
  }
  return -1;
}

function readIfd(view, tiff, ifdOffset, little) {
  const entries = new Map();
  const start = tiff + ifdOffset;
  if (start + 2 > view.byteLength) return entries;
  const count = view.getUint16(start, little);
  for (let i = 0; i < count; i += 1) {
    const entry = start + 2 + i * 12;
    if (entry + 12 > view.byteLength) break;
    const tag = view.getUint16(entry, little);
    const type = view.getUint16(entry + 2, little);
    const n = view.getUint32(entry + 4, little);
    const size = (TYPE_SIZE[type] ?? 1) * n;
    // Values of four bytes or fewer sit in the entry itself; others are at an offset.
    const at = size <= 4 ? entry + 8 : tiff + view.getUint32(entry + 8, little);
    if (at + size > view.byteLength) continue;
    entries.set(tag, { type, n, at });
  }
  return entries;
}

function ascii(view, { n, at }) {
  let text = '';
  for (let i = 0; i < n; i += 1) {
    const code = view.getUint8(at + i);
    if (code === 0) break;
    text += String.fromCharCode(code);
  }
  return text.trim();
}

function rationals(view, { n, at, type }, little) {
  const values = [];
  for (let i = 0; i < n; i += 1) {
    const num = type === 10 ? view.getInt32(at + i * 8, little) : view.getUint32(at + i * 8, little);
    const den = type === 10 ? view.getInt32(at + i * 8 + 4, little) : view.getUint32(at + i * 8 + 4, little);
    values.push(den === 0 ? NaN : num / den);
  }
  return values;
}

function degrees(view, entry, refEntry, little, negativeRef) {
  if (!entry || entry.type !== 5 || entry.n < 3) return null;
  const [d, m, s] = rationals(view, entry, little);
  const value = d + m / 60 + s / 3600;
  if (!Number.isFinite(value)) return null;
  const ref = refEntry ? ascii(view, refEntry).toUpperCase() : '';
  return Math.round((ref === negativeRef ? -value : value) * 1e7) / 1e7;
}

/**
 * EXIF "YYYY:MM:DD HH:MM:SS" (local time of the camera) → ISO 8601 with an offset.
 * Without OffsetTimeOriginal we assume China time (+08:00): these phones are in China.
 */
export function exifDateToIso(text, offset = '+08:00') {
  const match = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text ?? '');
  if (!match || match[1] === '0000') return null;
  const [, y, mo, d, hh, mm, ss] = match;
  const zone = /^[+-]\d{2}:\d{2}$/.test(offset ?? '') ? offset : '+08:00';
  return `${y}-${mo}-${d}T${hh}:${mm}:${ss}${zone}`;
}

/** {lat, lon, captured_at} from a JPEG's bytes; each null when absent or unreadable. */
export function readExif(bytes) {
  const buffer = bytes instanceof ArrayBuffer ? bytes : bytes.buffer.slice(
    bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const view = new DataView(buffer);
  const result = { lat: null, lon: null, captured_at: null };
  const tiff = findTiff(view);
  if (tiff < 0 || tiff + 8 > view.byteLength) return result;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return result;
  const little = order === 0x4949;
  const ifd0 = readIfd(view, tiff, view.getUint32(tiff + 4, little), little);

  let when = ifd0.has(TAG.DATE_TIME) ? ascii(view, ifd0.get(TAG.DATE_TIME)) : null;
  let zone;
  if (ifd0.has(TAG.EXIF_IFD)) {
    const exif = readIfd(view, tiff, view.getUint32(ifd0.get(TAG.EXIF_IFD).at, little), little);
    if (exif.has(TAG.DATE_TIME_ORIGINAL)) when = ascii(view, exif.get(TAG.DATE_TIME_ORIGINAL));
    if (exif.has(TAG.OFFSET_TIME_ORIGINAL)) zone = ascii(view, exif.get(TAG.OFFSET_TIME_ORIGINAL));
  }
  result.captured_at = exifDateToIso(when, zone);
  if (ifd0.has(TAG.GPS_IFD)) {
    const gps = readIfd(view, tiff, view.getUint32(ifd0.get(TAG.GPS_IFD).at, little), little);
    result.lat = degrees(view, gps.get(TAG.GPS_LAT), gps.get(TAG.GPS_LAT_REF), little, 'S');
    result.lon = degrees(view, gps.get(TAG.GPS_LON), gps.get(TAG.GPS_LON_REF), little, 'W');
    if (result.lat === null || result.lon === null
        || Math.abs(result.lat) > 90 || Math.abs(result.lon) > 180) {
      result.lat = null; result.lon = null;
    }
  }
  return result;
}
