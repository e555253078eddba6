import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/**
 * `attestation:` in the config file: who signs `/metadata/attested/document`. See docs/attested-data.md.
 */

const dnsName = z
  .string()
  .regex(
    /^(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$/,
    'expected a DNS name such as emulator.metadata.azure.com',
  );

export const attestationSchema = z.strictObject({
  /**
   * The CA that issues the signing certificate, instead of the one azimds generates on first use in
   * `dataDir` (attestation-ca.pem). Each value is PEM text or the path of a PEM file; the key is an
   * unencrypted RSA key (PKCS#1 or PKCS#8) and the certificate a CA certificate (basicConstraints CA:TRUE).
   */
  ca: z
    .strictObject({
      certificate: z.string().min(1),
      privateKey: z.string().min(1),
    })
    .optional(),
  /** DNS names (subjectAltName) of the leaf certificate that signs; the first is also its common name. */
  dnsNames: z.array(dnsName).min(1).default(DEFAULTS.attestation.dnsNames),
  /** Seconds between timeStamp.createdOn and timeStamp.expiresOn of a signed document. */
  validitySeconds: z
    .number()
    .int()
    .min(1)
    .max(366 * 86_400)
    .default(DEFAULTS.attestation.validitySeconds),
});

export type AttestationConfig = z.output<typeof attestationSchema>;
