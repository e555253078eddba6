import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttestationConfig } from '../../config/attestation.js';
import { AzimdsError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { createPrivateFileExclusive, resolveDataDir } from '../data-dir.js';
import type { JsonObject } from '../machines/json.js';
import type { Machine } from '../machines/machine.js';
import {
  caFileContent,
  generateCa,
  issueLeaf,
  type KeyPairWithCertificate,
  loadCa,
  pemBlocks,
} from './certificates.js';
import { type AttestedFacts, attestedContent, defaultNonce, isValidNonce } from './content.js';
import { signPkcs7 } from './pkcs7.js';

/** Name of the CA file azimds creates in `dataDir` (its key and certificate, owner-only). */
export const CA_FILE_NAME = 'attestation-ca.pem';

/** The body of `GET /metadata/attested/document`. */
export interface AttestedDocument {
  encoding: 'pkcs7';
  /** base64 of the DER PKCS#7 SignedData. */
  signature: string;
}

export interface AttestationOptions {
  clock: Clock;
  /** The VM whose facts are signed (read at every signature, so VM changes show at once). */
  machine: Machine;
  /** `config.attestation`. */
  config: AttestationConfig;
  /** `config.dataDir`, where the CA is created on first use unless `config.ca` gives one. */
  dataDir: string;
}

interface Material {
  ca: KeyPairWithCertificate;
  leaf: KeyPairWithCertificate;
}

/**
 * Attested data: signs the VM's facts as Azure does, with a leaf certificate (SAN
 * `emulator.metadata.azure.com` by default) issued by the emulator's CA.
 *
 * The CA comes from `config.attestation.ca`, or from `<dataDir>/attestation-ca.pem`, created on first
 * use (owner-only, atomically; two processes starting at once agree on one). Nothing is generated or
 * read from disk until a document or a certificate is first asked for, so emulators that never serve
 * attested data never touch `dataDir`. The leaf is issued anew by each emulator process.
 *
 * Verifiers must trust the CA (`caCertificatePem()`): it is not Microsoft's, so code that insists on
 * Azure's public chain will reject these documents, by design.
 */
export class Attestation {
  readonly #clock: Clock;
  readonly #machine: Machine;
  readonly #config: AttestationConfig;
  readonly #dataDir: string;
  readonly #configuredCa: KeyPairWithCertificate | undefined;
  #material: Promise<Material> | undefined;

  /** @throws AzimdsError `CONFIG_INVALID` when `config.ca` is given but unreadable or unusable. */
  constructor(options: AttestationOptions) {
    this.#clock = options.clock;
    this.#machine = options.machine;
    this.#config = options.config;
    this.#dataDir = options.dataDir;
    const ca = options.config.ca;
    if (ca) {
      try {
        this.#configuredCa = loadCa(pemOrFile(ca.certificate), pemOrFile(ca.privateKey));
      } catch (cause) {
        throw new AzimdsError('CONFIG_INVALID', `attestation.ca: ${(cause as Error).message}`, { cause });
      }
    }
  }

  /**
   * The file holding the generated CA (key and certificate), or `undefined` when the CA comes from
   * the config. The file may not exist yet: it is created on first use.
   */
  get caFile(): string | undefined {
    return this.#configuredCa ? undefined : join(resolveDataDir(this.#dataDir), CA_FILE_NAME);
  }

  /**
   * PEM of the CA certificate that issues the signing certificate: what verifiers must trust.
   * Creates the CA in `dataDir` if this is its first use.
   * @throws AzimdsError `KEY_STORE` when the CA file cannot be created or read.
   */
  async caCertificatePem(): Promise<string> {
    return (await this.#materials()).ca.certificatePem;
  }

  /** PEM of the leaf certificate that signs documents (also embedded in every signature). */
  async signerCertificatePem(): Promise<string> {
    return (await this.#materials()).leaf.certificatePem;
  }

  /**
   * The JSON signed for `version` (an IMDS api-version ≥ 2018-10-01) at the clock's current time:
   * `nonce` is the given one or `YYYYMMDD-HHMMSS` (UTC) when absent or empty.
   */
  content(version: string, nonce?: string): string {
    const now = this.#clock.now();
    const expires = now + this.#config.validitySeconds * 1000;
    return attestedContent(this.#facts(), version, nonce || defaultNonce(now), now, expires);
  }

  /**
   * The attested document for `version`: `{"encoding":"pkcs7","signature":"<base64 DER>"}`.
   * @throws AzimdsError `INVALID_INPUT` for a nonce that is not 1-32 letters and digits (the
   *   protocol answers 400 before calling); `KEY_STORE` when the CA cannot be created or read.
   */
  async document(version: string, nonce?: string): Promise<AttestedDocument> {
    if (nonce && !isValidNonce(nonce)) {
      throw new AzimdsError('INVALID_INPUT', 'a nonce is up to 32 letters and digits');
    }
    const { leaf } = await this.#materials();
    return { encoding: 'pkcs7', signature: signPkcs7(this.content(version, nonce), leaf).toString('base64') };
  }

  #facts(): AttestedFacts {
    const compute = this.#machine.document.compute as JsonObject;
    const plan = (compute.plan ?? {}) as Record<string, string | undefined>;
    const text = (key: string) => {
      const v = compute[key];
      return typeof v === 'string' ? v : '';
    };
    return {
      vmId: text('vmId'),
      subscriptionId: text('subscriptionId'),
      sku: text('sku'),
      licenseType: text('licenseType'),
      plan: { name: plan.name ?? '', product: plan.product ?? '', publisher: plan.publisher ?? '' },
    };
  }

  #materials(): Promise<Material> {
    this.#material ??= this.#load().catch((error: unknown) => {
      this.#material = undefined; // let a later request try again (e.g. after fixing permissions)
      throw error;
    });
    return this.#material;
  }

  async #load(): Promise<Material> {
    const ca = this.#configuredCa ?? (await this.#dataDirCa(this.caFile as string));
    const leaf = await issueLeaf(ca, this.#config.dnsNames, this.#clock.now());
    return { ca, leaf };
  }

  async #dataDirCa(file: string): Promise<KeyPairWithCertificate> {
    try {
      if (!existsSync(file)) {
        const created = await generateCa(this.#clock.now());
        if (createPrivateFileExclusive(file, caFileContent(created))) return created;
        // Another azimds process created it first: use theirs, so both sign under one CA.
      }
      const blocks = pemBlocks(readFileSync(file, 'utf8'));
      const certificate = blocks.CERTIFICATE;
      const key = blocks['PRIVATE KEY'] ?? blocks['RSA PRIVATE KEY'];
      if (!certificate || !key) throw new Error('expected a PRIVATE KEY and a CERTIFICATE PEM block');
      return loadCa(certificate, key);
    } catch (cause) {
      throw new AzimdsError(
        'KEY_STORE',
        `attestation CA ${file}: ${(cause as Error).message} (delete the file to have azimds create a new CA)`,
        { cause },
      );
    }
  }
}

/** PEM text as given, or the content of the file it names. */
function pemOrFile(value: string): string {
  return value.includes('-----BEGIN ') ? value : readFileSync(resolveDataDir(value), 'utf8');
}
