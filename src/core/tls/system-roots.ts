import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/**
 * Files where operating systems keep their trusted roots as one PEM bundle (Debian/Ubuntu, Fedora/RHEL,
 * openSUSE, Alpine/macOS). They include roots an administrator added (a corporate proxy's), which
 * Node's built-in list lacks.
 */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

/**
 * The trusted roots of this machine as PEM: the first system bundle that exists and holds a
 * certificate, else Node's built-in Mozilla list (`tls.rootCertificates`, e.g. on Windows).
 */
export function systemRootsPem(): string {
  for (const file of SYSTEM_BUNDLES) {
    try {
      const text = readFileSync(file, 'utf8');
      if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
    } catch {
      // not on this system
    }
  }
  return `${rootCertificates.join('\n')}\n`;
}
