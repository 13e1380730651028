// EXIF GPS/time reading (pwa/static/js/domain/exif.js) against the shared fixture photos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readExif, exifDateToIso } from '../../../pwa/static/js/domain/exif.js';

const photo = (name) => readFileSync(new URL(`../../data/photos/${name}`, import.meta.url));

test('reads GPS and the original time from a phone photo', () => {
  const { lat, lon, captured_at: capturedAt } = readExif(photo('visit_gps.jpg'));
  assert.ok(Math.abs(lat - 26.0712) < 1e-4, `lat ${lat}`);
  assert.ok(Math.abs(lon - 103.6542) < 1e-4, `lon ${lon}`);
  assert.match(capturedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
});

test('a photo without EXIF gives nulls, not an error', () => {
  assert.deepEqual(readExif(photo('other_scene.jpg')), { lat: null, lon: null, captured_at: null });
});

test('broken or non-JPEG bytes give nulls', () => {
  for (const name of ['truncated.jpg', 'zero.jpg', 'visit_plain.png', 'not_an_image.jpg']) {
    assert.deepEqual(readExif(photo(name)), { lat: null, lon: null, captured_at: null }, name);
  }
  assert.deepEqual(readExif(new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0x00])),
    { lat: null, lon: null, captured_at: null });
});

test('southern and western references are negative', () => {
  // A hand-built big-endian TIFF: GPS IFD with S / W references.
  const bytes = buildJpegWithGps({ latRef: 'S', lat: [33, 51, 54], lonRef: 'W', lon: [70, 40, 12] });
  const { lat, lon } = readExif(bytes);
  assert.ok(Math.abs(lat + (33 + 51 / 60 + 54 / 3600)) < 1e-6);
  assert.ok(Math.abs(lon + (70 + 40 / 60 + 12 / 3600)) < 1e-6);
});

test('EXIF dates become ISO 8601 with China time unless the photo says otherwise', () => {
  assert.equal(exifDateToIso('2026:11:20 10:15:00'), '2026-11-20T10:15:00+08:00');
  assert.equal(exifDateToIso('2026:11:20 10:15:00', '+07:00'), '2026-11-20T10:15:00+07:00');
  assert.equal(exifDateToIso('0000:00:00 00:00:00'), null);
  assert.equal(exifDateToIso('garbage'), null);
});

function buildJpegWithGps({ latRef, lat, lonRef, lon }) {
  // TIFF (MM): header 8, IFD0 with 1 entry (GPS pointer) at 8, GPS IFD at 26 with 4 entries,
  // then two 3-rational arrays.
  const tiff = new DataView(new ArrayBuffer(26 + 2 + 4 * 12 + 4 + 48));
  tiff.setUint16(0, 0x4d4d); tiff.setUint16(2, 42); tiff.setUint32(4, 8);
  tiff.setUint16(8, 1);
  tiff.setUint16(10, 0x8825); tiff.setUint16(12, 4); tiff.setUint32(14, 1); tiff.setUint32(18, 26);
  tiff.setUint32(22, 0);
  const gps = 26;
  const data = gps + 2 + 4 * 12 + 4;
  tiff.setUint16(gps, 4);
  const entry = (i, tag, type, n, value) => {
    const at = gps + 2 + i * 12;
    tiff.setUint16(at, tag); tiff.setUint16(at + 2, type); tiff.setUint32(at + 4, n);
    value(at + 8);
  };
  entry(0, 1, 2, 2, (at) => tiff.setUint8(at, latRef.charCodeAt(0)));
  entry(1, 2, 5, 3, (at) => tiff.setUint32(at, data));
  entry(2, 3, 2, 2, (at) => tiff.setUint8(at, lonRef.charCodeAt(0)));
  entry(3, 4, 5, 3, (at) => tiff.setUint32(at, data + 24));
  [...lat, ...lon].forEach((v, i) => { tiff.setUint32(data + i * 8, v); tiff.setUint32(data + i * 8 + 4, 1); });
  const body = new Uint8Array(tiff.buffer);
  const segment = new Uint8Array(4 + 6 + body.length);
  const header = new DataView(segment.buffer);
  header.setUint16(0, 0xffe1); header.setUint16(2, 2 + 6 + body.length);
  segment.set([0x45, 0x78, 0x69, 0x66, 0, 0], 4);
  segment.set(body, 10);
  return new Uint8Array([0xff, 0xd8, ...segment, 0xff, 0xd9]);
}
