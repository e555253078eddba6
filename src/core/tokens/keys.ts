import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

/** The public half of an RSA key as a JWK. */
export interface PublicJwk {
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
}

/** A key that signs tokens (RS256), or did and is still published so its tokens verify. */
export interface SigningKey {
  /** Key id: `kid` (and `x5t`) in token headers and in the JWKS. */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: PublicJwk;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms at which a newer key took over signing; absent for the signing key. */
  readonly retiredAt?: number;
}

/** One entry of a JWKS document, shaped like Entra's (`x5t` repeats the `kid`, as Entra's do). */
export interface JwksKey extends PublicJwk {
  readonly use: 'sig';
  readonly kid: string;
  readonly x5t: string;
}

/** RSA modulus size of generated keys; Entra signs with 2048-bit RSA keys. */
export const MODULUS_BITS = 2048;

/** Generates a fresh RSA signing key. Takes tens of milliseconds. */
export function generateSigningKey(now: number): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: MODULUS_BITS });
  return signingKeyFrom(privateKey, now);
}

/** Wraps an RSA private key; the kid is derived from the public key, so it is the same wherever the key is loaded. */
export function signingKeyFrom(privateKey: KeyObject, createdAt: number, retiredAt?: number): SigningKey {
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error('token signing keys must be RSA keys');
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MODULUS_BITS)
    throw new Error(`token signing keys need at least ${MODULUS_BITS} bits (got ${bits})`);
  const { n, e } = createPublicKey(privateKey).export({ format: 'jwk' }) as { n: string; e: string };
  const publicJwk: PublicJwk = { kty: 'RSA', n, e };
  return {
    kid: keyId(publicJwk),
    privateKey,
    publicJwk,
    createdAt,
    ...(retiredAt !== undefined ? { retiredAt } : {}),
  };
}

/**
 * A key id shaped like Entra's (27 base64url characters, the length of a SHA-1 thumbprint): the SHA-1
 * of the key's RFC 7638 canonical JWK. An identifier, not a security measure.
 */
export function keyId(jwk: PublicJwk): string {
  return createHash('sha1')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
}

/** The JWKS entry of a key. */
export function jwksKey(key: SigningKey): JwksKey {
  return { kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: key.publicJwk.n, e: key.publicJwk.e };
}

/** Private key as a JWK (for the key file). */
export function exportPrivateJwk(key: SigningKey): Record<string, unknown> {
  return key.privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
}

/** Private key from a JWK (key file) or PEM text (PKCS#8 or PKCS#1). */
export function importPrivateKey(source: Record<string, unknown> | string): KeyObject {
  return typeof source === 'string'
    ? createPrivateKey({ key: source, format: 'pem' })
    : createPrivateKey({ key: source as never, format: 'jwk' });
}
