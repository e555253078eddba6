import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { AzimdsError } from '../../errors.js';
import { resolveDataDir, withFileLock, writePrivateFileAtomic } from '../data-dir.js';
import { createCertificate, forgePrivateKey, nodeForge } from '../x509.js';

/** A TLS server certificate and its key, as the Service Fabric endpoint serves them. */
export interface TlsCertificate {
  /** PEM of the certificate (what clients trust: NODE_EXTRA_CA_CERTS, `curl --cacert`). */
  readonly certPem: string;
  /** PEM of the private key. Never log it. */
  readonly keyPem: string;
  /** The certificate's file: NODE_EXTRA_CA_CERTS for Node, `--cacert` for curl. */
  readonly certFile: string;
  /** SHA-1 of the DER certificate, upper-case hex without separators: IDENTITY_SERVER_THUMBPRINT. */
  readonly thumbprint: string;
}

/** File names below `dataDir` of the generated certificate and key (both owner-only). */
export const SERVICE_FABRIC_CERT_FILE = 'service-fabric-tls.crt';
export const SERVICE_FABRIC_KEY_FILE = 'service-fabric-tls.key';

const DAY_MS = 86_400_000;

/**
 * The Service Fabric endpoint's certificate: the configured PEM files, or a self-signed certificate
 * generated on first use in `dataDir` (owner-only), valid for `localhost`, 127.0.0.1, ::1 and
 * `host`. A generated certificate that does not cover `host` is replaced. Synchronous: the listener
 * needs it before it is built, and it is generated once per data directory.
 * @throws AzimdsError `KEY_STORE` when the files cannot be read or written.
 */
export function serviceFabricCertificate(options: {
  dataDir: string;
  host: string;
  now: number;
  configured?: { certFile: string; keyFile: string };
}): TlsCertificate {
  if (options.configured) return fromFiles(options.configured.certFile, options.configured.keyFile);
  const dir = resolveDataDir(options.dataDir);
  const certFile = join(dir, SERVICE_FABRIC_CERT_FILE);
  const keyFile = join(dir, SERVICE_FABRIC_KEY_FILE);
  const usable = () => {
    if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
    const cert = fromFiles(certFile, keyFile);
    return covers(new X509Certificate(cert.certPem), options.host) ? cert : undefined;
  };
  try {
    return (
      usable() ??
      withFileLock(certFile, () => {
        const again = usable();
        if (again) return again;
        const { certPem, keyPem } = generateSelfSigned(options.host, options.now);
        writePrivateFileAtomic(keyFile, keyPem);
        writePrivateFileAtomic(certFile, certPem);
        return withThumbprint(certPem, keyPem, certFile);
      })
    );
  } catch (cause) {
    if (cause instanceof AzimdsError) throw cause;
    throw new AzimdsError(
      'KEY_STORE',
      `cannot create the Service Fabric TLS certificate in ${dir}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function fromFiles(certFile: string, keyFile: string): TlsCertificate {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(resolveDataDir(certFile), 'utf8');
    keyPem = readFileSync(resolveDataDir(keyFile), 'utf8');
  } catch (cause) {
    throw new AzimdsError('KEY_STORE', `Service Fabric TLS certificate: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    const x509 = new X509Certificate(certPem);
    if (!x509.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the key does not belong to it');
  } catch (cause) {
    throw new AzimdsError(
      'KEY_STORE',
      `Service Fabric TLS certificate ${certFile}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return withThumbprint(certPem, keyPem, resolveDataDir(certFile));
}

function withThumbprint(certPem: string, keyPem: string, certFile: string): TlsCertificate {
  const thumbprint = new X509Certificate(certPem).fingerprint.replaceAll(':', '').toUpperCase();
  return { certPem, keyPem, certFile, thumbprint };
}

/** Names a certificate for `host` must hold: loopback always, and `host` unless it is a wildcard. */
function namesFor(host: string): { dns: string[]; ips: string[] } {
  const dns = ['localhost'];
  const ips = ['127.0.0.1', '::1'];
  if (host !== '0.0.0.0' && host !== '::') {
    if (isIP(host)) {
      if (!ips.includes(host)) ips.push(host);
    } else if (!dns.includes(host.toLowerCase())) dns.push(host.toLowerCase());
  }
  return { dns, ips };
}

function covers(x509: X509Certificate, host: string): boolean {
  const { dns, ips } = namesFor(host);
  return (
    dns.every((d) => x509.checkHost(d, { wildcards: false }) !== undefined) &&
    ips.every((ip) => x509.checkIP(ip) !== undefined)
  );
}

/**
 * A self-signed RSA-2048/SHA-256 certificate, shaped like `openssl req -x509`'s (CA:TRUE, so it is
 * its own trust anchor in every TLS stack) with serverAuth and the names above.
 */
function generateSelfSigned(host: string, now: number): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { dns, ips } = namesFor(host);
  const cert = createCertificate({
    publicKey,
    signingKey: forgePrivateKey(privateKey),
    subject: [
      { name: 'commonName', value: 'localhost' },
      { name: 'organizationName', value: 'azimds Service Fabric token service (development only)' },
    ],
    notBefore: now - DAY_MS,
    notAfter: now + 3650 * DAY_MS,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...dns.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
      },
      { name: 'subjectKeyIdentifier' },
    ],
  });
  return {
    certPem: nodeForge().pki.certificateToPem(cert),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
