import { type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type forge from 'node-forge';

/**
 * X.509 certificates built with node-forge from node:crypto keys (generated natively: forge's pure-JS
 * key generation is slow), signed with SHA-256. Used for the attestation CA and its leaf
 * (core/attestation/certificates.ts) and for Service Fabric's TLS certificate
 * (core/platforms/tls-certificate.ts).
 */

let loaded: typeof forge | undefined;

/**
 * node-forge, loaded on first use: ~900 KB of JavaScript in 42 modules, 40–60 ms of a cold start-up,
 * needed only when a certificate is made or read (attestation, the local CA's leaves, Service Fabric's
 * certificate), never to answer the first IMDS request. node-forge is CommonJS: `require` keeps every
 * caller synchronous.
 */
export function nodeForge(): typeof forge {
  loaded ??= createRequire(import.meta.url)('node-forge') as typeof forge;
  return loaded;
}

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
  const { pki, md } = nodeForge();
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(spec.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = spec.serialNumber ?? randomSerialNumber();
  cert.validity.notBefore = new Date(spec.notBefore);
  cert.validity.notAfter = new Date(spec.notAfter);
  cert.setSubject(spec.subject);
  cert.setIssuer(spec.issuer ?? spec.subject);
  cert.setExtensions([...spec.extensions]);
  cert.sign(spec.signingKey, md.sha256.create());
  return cert;
}

/** A node:crypto private key as forge's (to sign certificates with). */
export function forgePrivateKey(key: KeyObject): forge.pki.rsa.PrivateKey {
  return nodeForge().pki.privateKeyFromPem(key.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** 16 random bytes, positive (high bit clear), as forge wants serial numbers: hex. */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

/** PEM with `\n` line ends, as node:crypto writes it (forge writes `\r\n`): one form everywhere. */
export function pemOf(cert: forge.pki.Certificate): string {
  return new X509Certificate(nodeForge().pki.certificateToPem(cert)).toString();
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
