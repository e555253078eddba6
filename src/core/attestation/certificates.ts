import { createPrivateKey, generateKeyPair, type KeyObject, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import type forge from 'node-forge';
import {
  createCaCertificate,
  createCertificate,
  DAY_MS,
  forgePrivateKey,
  nodeForge,
  pemOf,
} from '../x509.js';

/**
 * X.509 for attested data: the emulator's CA and the leaf certificate that signs (built by core/x509.ts).
 */

const generateRsa = promisify(generateKeyPair);

/** A certificate with its private key. */
export interface KeyPairWithCertificate {
  /** The certificate, PEM. */
  readonly certificatePem: string;
  readonly certificate: forge.pki.Certificate;
  /** The private key for node:crypto (signing). */
  readonly key: KeyObject;
  /** The private key for forge (issuing certificates). */
  readonly forgeKey: forge.pki.rsa.PrivateKey;
}

/** The PEM blocks of `text`, e.g. `{ 'PRIVATE KEY': '-----BEGIN ...', CERTIFICATE: '...' }` (first of each type). */
export function pemBlocks(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g)) {
    out[m[1] as string] ??= `${m[0]}\n`;
  }
  return out;
}

/**
 * Reads a CA from PEM text (certificate and key). Checks what would otherwise fail later and less
 * clearly: an RSA key, a CA certificate, a key that matches it.
 * @throws Error with a message naming the problem.
 */
export function loadCa(certificateText: string, privateKeyPem: string): KeyPairWithCertificate {
  const x509 = new X509Certificate(certificateText);
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`the CA key is ${key.asymmetricKeyType}; azimds signs with RSA keys only`);
  }
  if (!x509.ca) throw new Error('the certificate is not a CA certificate (basicConstraints CA:TRUE)');
  if (!x509.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate');
  const certificatePem = x509.toString();
  // forge's forms only when a certificate is issued: reading a CA for its PEM (the CLI banner's CA
  // bundle, `azimds env`) does not load node-forge.
  let certificate: forge.pki.Certificate | undefined;
  let forgeKey: forge.pki.rsa.PrivateKey | undefined;
  return {
    certificatePem,
    get certificate() {
      certificate ??= nodeForge().pki.certificateFromPem(certificatePem);
      return certificate;
    },
    key,
    get forgeKey() {
      forgeKey ??= forgePrivateKey(key);
      return forgeKey;
    },
  };
}

/** A new self-signed CA (RSA 2048, SHA-256, 10 years from `now`). */
export async function generateCa(now: number): Promise<KeyPairWithCertificate> {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const forgeKey = forgePrivateKey(privateKey);
  const cert = createCaCertificate({
    publicKey,
    signingKey: forgeKey,
    commonName: 'azimds Attestation CA (development only, not Microsoft)',
    now,
    validityDays: 3650,
  });
  return { certificate: cert, certificatePem: pemOf(cert), key: privateKey, forgeKey };
}

/**
 * A new leaf certificate issued by `ca` for `dnsNames` (subjectAltName; the first is the common name),
 * valid from an hour before `now` for a year, with the key usages of Azure's signing certificate.
 */
export async function issueLeaf(
  ca: KeyPairWithCertificate,
  dnsNames: readonly string[],
  now: number,
): Promise<KeyPairWithCertificate> {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const cert = createCertificate({
    publicKey,
    signingKey: ca.forgeKey,
    subject: [{ name: 'commonName', value: dnsNames[0] as string }],
    issuer: ca.certificate.subject.attributes,
    notBefore: now - 3_600_000,
    notAfter: now + 365 * DAY_MS,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: dnsNames.map((value) => ({ type: 2, value })) },
      { name: 'subjectKeyIdentifier' },
      {
        name: 'authorityKeyIdentifier',
        keyIdentifier: ca.certificate.generateSubjectKeyIdentifier().getBytes(),
      },
    ],
  });
  return {
    certificate: cert,
    certificatePem: pemOf(cert),
    key: privateKey,
    forgeKey: forgePrivateKey(privateKey),
  };
}

/** The CA file azimds keeps in dataDir: its key and certificate, PEM, in one file (written atomically as a pair). */
export function caFileContent(ca: KeyPairWithCertificate): string {
  return ca.key.export({ type: 'pkcs8', format: 'pem' }) + ca.certificatePem;
}
