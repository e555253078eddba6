import { type KeyObject, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * X.509 certificates built with node-forge from node:crypto keys (generated natively: forge's pure-JS
 * key generation is slow), signed with SHA-256. Used for the attestation CA and its leaf
 * (core/attestation/certificates.ts) and for Service Fabric's TLS certificate
 * (core/platforms/tls-certificate.ts).
 */

/** A subject or issuer name, as forge takes it (`[{ name: 'commonName', value: '...' }]`). */
export type CertificateName = forge.pki.CertificateField[];

export interface CertificateSpec {
  /** The key the certificate certifies. */
  readonly publicKey: KeyObject;
  /** The key that signs it: the issuer's, or the subject's own for a self-signed certificate. */
  readonly signingKey: forge.pki.rsa.PrivateKey;
  readonly subject: CertificateName;
  /** The issuer's name; the subject when absent (self-signed). */
  readonly issuer?: CertificateName;
  /** Validity bounds, epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** forge extension objects (`{ name: 'basicConstraints', cA: true }`, ...). */
  readonly extensions: readonly object[];
  /** Hex; 16 random bytes, positive, when absent. */
  readonly serialNumber?: string;
}

/** A certificate as `spec` describes it, signed (SHA-256) by `spec.signingKey`. */
export function createCertificate(spec: CertificateSpec): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    spec.publicKey.export({ type: 'spki', format: 'pem' }) as string,
  );
  cert.serialNumber = spec.serialNumber ?? randomSerialNumber();
  cert.validity.notBefore = new Date(spec.notBefore);
  cert.validity.notAfter = new Date(spec.notAfter);
  cert.setSubject(spec.subject);
  cert.setIssuer(spec.issuer ?? spec.subject);
  cert.setExtensions([...spec.extensions]);
  cert.sign(spec.signingKey, forge.md.sha256.create());
  return cert;
}

/** A node:crypto private key as forge's (to sign certificates with). */
export function forgePrivateKey(key: KeyObject): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(key.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** 16 random bytes, positive (high bit clear), as forge wants serial numbers: hex. */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

/** A day in milliseconds (certificate validity arithmetic). */
export const DAY_MS = 86_400_000;

/**
 * A self-signed CA certificate of azimds's (attestation, local proxy CA): `commonName` in organization
 * `azimds`, valid from a day before `now` for `validityDays`, CA:TRUE (critical; `pathLenConstraint` when
 * given), keyCertSign + cRLSign, a subject key identifier. Signed with `signingKey` (SHA-256).
 */
export function createCaCertificate(options: {
  publicKey: KeyObject;
  signingKey: forge.pki.rsa.PrivateKey;
  commonName: string;
  now: number;
  validityDays: number;
  pathLenConstraint?: number;
}): forge.pki.Certificate {
  const { now } = options;
  return createCertificate({
    publicKey: options.publicKey,
    signingKey: options.signingKey,
    subject: [
      { name: 'commonName', value: options.commonName },
      { name: 'organizationName', value: 'azimds' },
    ],
    notBefore: now - DAY_MS,
    notAfter: now + options.validityDays * DAY_MS,
    extensions: [
      {
        name: 'basicConstraints',
        cA: true,
        ...(options.pathLenConstraint === undefined ? {} : { pathLenConstraint: options.pathLenConstraint }),
        critical: true,
      },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
  });
}
