// The evidence map: the registered home, the start/end stamps and the photo points, with
// distance rings and a scale. Tiles come from the MAP_TILE_URL setting (a provincial or
// Tianditu server); with none (the default, tests, offline) the same map is drawn on a
// plain background. Markers are vector circles, so no marker images are needed.
import * as L from '../vendor/leaflet/leaflet-src.esm.js';
import { h } from '../js/dom.js';
import { t } from '../js/i18n.js';

export const LEAFLET_CSS = '/static/vendor/leaflet/leaflet.css';

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';

const STYLE = {
  home: { radius: 9, color: '#0b4f8a', fillColor: '#0b4f8a', fillOpacity: 0.9 },
  start: { radius: 7, color: '#0a6b2b', fillColor: '#0a6b2b', fillOpacity: 0.9 },
  end: { radius: 7, color: '#5a2a8a', fillColor: '#5a2a8a', fillOpacity: 0.9 },
  photo: { radius: 6, color: '#8a4b00', fillColor: '#f2a900', fillOpacity: 0.9 },
};

/** Metres in words: 850 m, 1.2 km. */
export const metres = (m) => (m == null ? '—' : m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`);

/**
 * Draw the map into `host` and return {map, points}: `points` lists what was drawn
 * ({kind, lat, lon, label}) for the legend beside it (the map itself is not read by
 * screen readers, so the same facts are in the table next to it).
 */
export function drawMap(host, evidence) {
  const tiles = meta('doorstep-map-tiles');
  host.classList.toggle('map-plain', !tiles);
  // The zoom buttons' titles in the reader's language (Leaflet's own are English).
  const map = L.map(host, { zoomControl: false, attributionControl: Boolean(tiles), keyboard: true });
  L.control.zoom({ zoomInTitle: t('review.map_zoom_in'), zoomOutTitle: t('review.map_zoom_out') }).addTo(map);
  if (tiles) L.tileLayer(tiles, { attribution: meta('doorstep-map-attribution'), maxZoom: 19, subdomains: '01234567' }).addTo(map);
  const points = [];
  const layers = [];
  // Bounds are computed from the coordinates (a layer's own bounds need a map with a view).
  const bounds = L.latLngBounds([]);
  const add = (kind, lat, lon, label) => {
    if (lat == null || lon == null) return;
    layers.push(L.circleMarker([lat, lon], { ...STYLE[kind], className: `map-${kind}` }).bindTooltip(label));
    bounds.extend([lat, lon]);
    points.push({ kind, lat, lon, label });
  };
  const { home } = evidence;
  if (home) {
    add('home', home.lat, home.lon, t('review.map_home'));
    for (const radius of evidence.distance_rings_m ?? []) {
      layers.push(L.circle([home.lat, home.lon], { radius, className: 'map-ring', color: '#0b4f8a', weight: 1,
        dashArray: '4 4', fill: false }).bindTooltip(metres(radius)));
      bounds.extend(L.latLng(home.lat, home.lon).toBounds(radius * 2));
    }
  }
  for (const stamp of evidence.stamps ?? []) {
    if (stamp.kind === 'start' || stamp.kind === 'end') {
      add(stamp.kind, stamp.lat, stamp.lon, `${t(`review.map_${stamp.kind}`)} · ${metres(stamp.distance_from_home_m)}`);
    }
  }
  for (const [index, photo] of (evidence.photos ?? []).entries()) {
    const lat = photo.exif_lat ?? photo.device_lat;
    const lon = photo.exif_lon ?? photo.device_lon;
    add('photo', lat, lon, `${t('review.map_photo', { n: index + 1 })} · ${metres(photo.distance_from_home_m)}`);
  }
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
  else map.setView([27.19, 103.56], 12);
  for (const layer of layers) layer.addTo(map);
  return { map, points };
}

/** The legend: the same points as a list a screen reader (and a printout) can use. */
export function legend(points) {
  return h('ul', { class: 'map-legend', id: 'map-legend' }, points.map((p) => h('li', { dataset: { kind: p.kind } },
    h('span', { class: `dot dot-${p.kind}`, 'aria-hidden': 'true' }), p.label, ` (${p.lat.toFixed(5)}, ${p.lon.toFixed(5)})`)));
}
