// A device-key registration proof made as the PWA makes it (non-extractable WebCrypto
// key, domain/device-keys.js message); tests/unit/test_device_rules.py verifies it in Python.
import { fileURLToPath } from 'node:url';

import { base64url, registrationMessage } from '../../../pwa/static/js/domain/device-keys.js';

export async function makeRegistrationVector(userId = 'user-1', deviceId = 'device-aaaaaaaa',
  nonce = 'nonce-xyz') {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false,
    ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey,
    new TextEncoder().encode(registrationMessage(userId, deviceId, nonce)));
  return { user_id: userId, device_id: deviceId, nonce,
    public_key_jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    signature_b64url: base64url(signature) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await makeRegistrationVector())}\n`);
}
