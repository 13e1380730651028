// Canonical JSON (RFC 8785, JSON Canonicalization Scheme) and the attestation message.
//
// Both investigators sign the same bytes the server hashes (谁调查谁签字谁负责, 002/004), so
// this must produce exactly what backend/visits/rules.py canonical_json produces; the shared
// vectors in tests/data/canonical_cases.json prove it for both languages.
//
// - object keys sorted by UTF-16 code units (JavaScript's default sort, as RFC 8785 says)
// - no whitespace
// - numbers: JSON.stringify of a finite double is already the RFC 8785 form
//   (100 -> "100", 1e21 -> "1e+21", 1e-7 -> "1e-7", -0 -> "0"); NaN and Infinity throw
// - strings: JSON.stringify's escaping is RFC 8785's; a lone surrogate throws
// - only null, booleans, numbers, strings, arrays and plain objects; anything else throws
//   (undefined, functions, BigInt, Date, Map...), so nothing is silently dropped.

export const ATTESTED_KEYS = Object.freeze([
  'id', 'case_id', 'form_id', 'form_version', 'data', 'stamps', 'photos',
]);
export const ATTESTATION_PREFIX = 'doorstep-attestation:v1:';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(text) {
  if (LONE_SURROGATE.test(text)) {
    throw new TypeError('canonical JSON: string contains a lone surrogate');
  }
  return JSON.stringify(text);
}

function serialize(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`canonical JSON: ${value} is not representable`);
      }
      return JSON.stringify(value);
    case 'string':
      return serializeString(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map(serialize).join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError('canonical JSON: only plain objects are allowed');
      }
      const keys = Object.keys(value).sort();
      return `{${keys.map((key) => `${serializeString(key)}:${serialize(value[key])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: unsupported type ${typeof value}`);
  }
}

/** RFC 8785 canonical JSON text of `value`. */
export function canonicalJson(value) {
  return serialize(value);
}

/** The part of a submission the investigators sign: exactly ATTESTED_KEYS, all required. */
export function attestedContent(submission) {
  const missing = ATTESTED_KEYS.filter((key) => !Object.hasOwn(submission, key));
  if (missing.length > 0) {
    throw new TypeError(`submission lacks attested keys: ${missing.join(', ')}`);
  }
  return Object.fromEntries(ATTESTED_KEYS.map((key) => [key, submission[key]]));
}

function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Hex SHA-256 of the UTF-8 bytes of `text`. */
export async function sha256Hex(text) {
  return toHex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** Hex SHA-256 of the canonical JSON of the submission's attested content. */
export async function submissionDigest(submission) {
  return sha256Hex(canonicalJson(attestedContent(submission)));
}

/** The text a device signs (as UTF-8, which here is ASCII) with its ECDSA P-256 key. */
export function attestationMessage(digestHex) {
  if (typeof digestHex !== 'string' || !/^[0-9a-f]{64}$/.test(digestHex)) {
    throw new TypeError('digest must be 64 lowercase hex characters');
  }
  return ATTESTATION_PREFIX + digestHex;
}
