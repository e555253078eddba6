/**
 * A throw-away TLS certificate for Key Vault's direct endpoint in tests, until the local CA (proxy
 * branch) serves certificates for any host name.
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { createCertificate, forgePrivateKey } from '../../src/core/x509.js';

/** A self-signed certificate for `*.vault.localhost` and 127.0.0.1 (PEM). */
export function selfSignedVaultCertificate(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Date.now();
  const name = [{ name: 'commonName', value: 'azimds key vault test' }];
  const cert = createCertificate({
    publicKey,
    signingKey: forgePrivateKey(privateKey),
    subject: name,
    notBefore: now - 60_000,
    notAfter: now + 3600_000,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: '*.vault.localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: forge.pki.certificateToPem(cert),
  };
}
