// Fetch wrapper: bearer token, X-Device-Id, one refresh on `token-expired`,
// problem+json → ApiError, and retries with backoff for network failures.
import { backoffDelay } from './domain/backoff.js';

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || problem.type);
    this.name = 'ApiError';
    this.type = problem.type || 'internal-error';
    this.status = status;
    this.detail = problem.detail;
    this.errors = problem.errors || {};
    this.problem = problem;
  }
  /** Network trouble or a server hiccup: worth trying again later. */
  get isTransient() { return this.type === 'network' || this.status >= 500 || this.status === 0; }
}

// The app plugs its session in here so this module stays free of storage and UI.
const hooks = {
  session: () => null,                 // → {access_token, refresh_token} or null
  saveTokens: async () => {},          // ({access_token, refresh_token}) after a refresh
  signedOut: () => {},                 // the server says this sign-in is over
  deviceId: () => null,
};
export function configure(overrides) { Object.assign(hooks, overrides); }

let refreshing = null;

async function refreshAccess() {
  // Concurrent requests that all see an expired token share one refresh.
  refreshing ??= (async () => {
    const refreshToken = hooks.session()?.refresh_token;
    if (!refreshToken) throw new ApiError({ type: 'not-authenticated' }, 401);
    const response = await fetch('/api/auth/refresh', {
      method: 'POST', headers: { Authorization: `Bearer ${refreshToken}` } });
    if (!response.ok) throw await toError(response);
    // Refresh tokens rotate: the one just sent is dead now, so keep the new one (sending
    // the old one again would end this sign-in on every device that holds it).
    const { access_token: accessToken, refresh_token: nextRefreshToken } = await response.json();
    await hooks.saveTokens({ access_token: accessToken, refresh_token: nextRefreshToken });
  })().finally(() => { refreshing = null; });
  return refreshing;
}

async function toError(response) {
  let problem;
  try { problem = await response.json(); } catch { problem = {}; }
  if (!problem || typeof problem.type !== 'string') {
    problem = { type: response.status >= 500 ? 'internal-error' : 'bad-request',
      detail: response.statusText };
  }
  return new ApiError(problem, response.status);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * Call the API. `body` objects go as JSON; Blobs go raw with their type.
 * Resolves to parsed JSON (or the Response when `raw`), throws ApiError.
 */
export async function request(path, { method = 'GET', body, headers = {}, raw = false,
  retries = 2, auth = true, bearer } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const sent = { ...headers };
    const deviceId = hooks.deviceId();
    if (deviceId) sent['X-Device-Id'] = deviceId;
    const token = bearer ?? (auth ? hooks.session()?.access_token : null);
    if (token) sent.Authorization = `Bearer ${token}`;
    let payload = body;
    if (body instanceof FormData) {
      // multipart: fetch writes the Content-Type with its boundary itself.
    } else if (body !== undefined && !(body instanceof Blob)) {
      sent['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    } else if (body instanceof Blob) {
      sent['Content-Type'] = body.type || 'application/octet-stream';
    }
    let response;
    try {
      response = await fetch(path, { method, headers: sent, body: payload });
    } catch (cause) {
      // fetch rejects only when the request never got an answer: offline, DNS, aborted.
      if (attempt < retries && navigator.onLine) { await sleep(backoffDelay(attempt, { baseMs: 400 })); continue; }
      const error = new ApiError({ type: 'network', detail: String(cause) }, 0);
      throw error;
    }
    if (response.status === 401 && auth && !bearer && attempt === 0) {
      const problem = await response.clone().json().catch(() => ({}));
      if (problem.type === 'token-expired') {
        try {
          await refreshAccess();
        } catch (error) {
          if (error instanceof ApiError && !error.isTransient) hooks.signedOut(error);
          throw error;
        }
        continue;
      }
      if (problem.type === 'token-revoked' || problem.type === 'token-invalid') {
        hooks.signedOut(new ApiError(problem, 401));
      }
    }
    if (response.status >= 500 && attempt < retries && method !== 'POST') {
      await sleep(backoffDelay(attempt, { baseMs: 400 }));
      continue;
    }
    if (!response.ok) throw await toError(response);
    if (raw) return response;
    if (response.status === 204) return null;
    const type = response.headers.get('Content-Type') || '';
    return type.includes('json') ? response.json() : response;
  }
}

/**
 * PUT a blob, reporting the bytes sent (`onProgress(fraction)`) as they leave: on a 2G link
 * one photo takes tens of seconds, and fetch() cannot say how far its upload got. An
 * expired token or a non-2xx answer is handed to request() (refresh, the same errors).
 */
export function upload(path, blob, { onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    const deviceId = hooks.deviceId();
    if (deviceId) xhr.setRequestHeader('X-Device-Id', deviceId);
    const token = hooks.session()?.access_token;
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', blob.type || 'application/octet-stream');
    xhr.upload.onprogress = (event) => { if (event.lengthComputable && event.total) onProgress?.(event.loaded / event.total); };
    const failed = () => reject(new ApiError({ type: 'network', detail: 'upload interrupted' }, 0));
    xhr.onerror = failed;
    xhr.onabort = failed;
    xhr.ontimeout = failed;
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) { onProgress?.(1); resolve(null); return; }
      // Let the general path answer: it refreshes an expired token and builds the error.
      request(path, { method: 'PUT', body: blob, retries: 0 }).then(resolve, reject);
    };
    xhr.send(blob);
  });
}

export const api = {
  get: (path, options) => request(path, options),
  post: (path, body, options) => request(path, { ...options, method: 'POST', body }),
  put: (path, body, options) => request(path, { ...options, method: 'PUT', body }),
};
