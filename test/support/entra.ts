/**
 * Helpers of the Entra tests: a client certificate (self-signed, as `New-SelfSignedCertificate` or
 * `openssl req -x509` make them) and client assertions signed with it, shaped as the libraries send
 * them (msal-node: PS256 + `x5t#S256`; msal-python and older libraries: RS256 + `x5t`).
 */
import { createHash, generateKeyPairSync, type KeyObject, randomUUID, X509Certificate } from 'node:crypto';
import { SignJWT } from 'jose';
import forge from 'node-forge';
import { createCertificate, forgePrivateKey } from '../../src/core/x509.js';

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
  privateKey: KeyObject;
  /** base64url SHA-1 / SHA-256 of the DER certificate. */
  x5t: string;
  x5tS256: string;
  /** SHA-1 upper-case hex (the portal's thumbprint). */
  thumbprint: string;
}

/** A self-signed certificate with a fresh 2048-bit RSA key. */
export function clientCertificate(commonName = 'azimds-test-client'): ClientCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Date.now();
  const cert = createCertificate({
    publicKey,
    signingKey: forgePrivateKey(privateKey),
    subject: [{ name: 'commonName', value: commonName }],
    notBefore: now - 86_400_000,
    notAfter: now + 365 * 86_400_000,
    extensions: [{ name: 'basicConstraints', cA: false }],
  });
  const certPem = forge.pki.certificateToPem(cert);
  const raw = new X509Certificate(certPem).raw;
  const sha1 = createHash('sha1').update(raw).digest();
  return {
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    privateKey,
    x5t: sha1.toString('base64url'),
    x5tS256: createHash('sha256').update(raw).digest('base64url'),
    thumbprint: sha1.toString('hex').toUpperCase(),
  };
}

/** A certificate client assertion: `iss` = `sub` = client id, `aud` the token endpoint, 10 minutes. */
export function certificateAssertion(options: {
  clientId: string;
  audience: string;
  certificate: ClientCertificate;
  alg?: 'RS256' | 'PS256';
  /** Epoch seconds; default now. */
  now?: number;
  lifetimeSeconds?: number;
  signWith?: KeyObject;
}): Promise<string> {
  const alg = options.alg ?? 'PS256';
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const header =
    alg === 'PS256'
      ? { alg, typ: 'JWT', 'x5t#S256': options.certificate.x5tS256 }
      : { alg, typ: 'JWT', x5t: options.certificate.x5t };
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader(header)
    .setIssuer(options.clientId)
    .setSubject(options.clientId)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (options.lifetimeSeconds ?? 600))
    .sign(options.signWith ?? options.certificate.privateKey);
}

/** `application/x-www-form-urlencoded` body. */
export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
