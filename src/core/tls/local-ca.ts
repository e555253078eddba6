import { constants, generateKeyPairSync, type KeyObject, privateEncrypt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type forge from 'node-forge';
import { DEFAULTS } from '../../config/defaults.js';
import type { Config } from '../../config/schema.js';
import { AzimdsError } from '../../errors.js';
import { type KeyPairWithCertificate, loadCa } from '../attestation/certificates.js';
import { resolveDataDir, withFileLock, writePrivateFileAtomic } from '../data-dir.js';
import { createCaCertificate, createCertificate, DAY_MS, forgePrivateKey, pemOf } from '../x509.js';
import { systemRootsPem } from './system-roots.js';

const HOUR_MS = 3_600_000;

/** Where the CA comes from: the files of `proxy.ca`, or generated once below `dataDir`. */
export interface LocalCaOptions {
  /** The data directory (`~` allowed); the generated CA and the bundle live here, owner-only. */
  readonly dataDir: string;
  /** A CA of the user's own (`proxy.ca`): PEM certificate (CA:TRUE) and its RSA key. */
  readonly configured?: { readonly certFile: string; readonly keyFile: string };
}

/** A leaf certificate minted for one host name, PEM. */
export interface LeafCertificate {
  readonly certPem: string;
  /** PEM (PKCS#8) of the key. Never log it. */
  readonly keyPem: string;
}

/** SNI-based TLS server options for `https.createServer` / fastify's `https` option. */
export interface SniServerOptions {
  /** Served to clients that send no SNI (an IP address in the URL): a certificate for `defaultHost`. */
  readonly key: string;
  readonly cert: string;
  /** Picks the certificate for the name the client asked for (minted on first use, then cached). */
  readonly SNICallback: (
    servername: string,
    callback: (error: Error | null, context?: SecureContext) => void,
  ) => void;
}

/**
 * azimds's local certificate authority: what lets clients reach `https://login.microsoftonline.com`,
 * `https://management.azure.com`, `https://<vault>.vault.azure.net` on azimds while verifying TLS as usual.
 *
 * - The CA (RSA-2048, SHA-256, `DEFAULTS.proxy.ca.validityDays`) is generated on first use in
 *   `dataDir` (`local-ca.crt` and `local-ca.key`, 0600 in a 0700 directory) or read from `proxy.ca`.
 * - Leaf certificates are minted per host name (SNI), on demand, and cached for the process: CN and
 *   subjectAltName = that name (an IP SAN for an address), serverAuth, valid from an hour ago for
 *   `DEFAULTS.proxy.ca.leafValidityDays` (never past the CA's own end). All leaves of one process share
 *   one key, as mitmproxy's do: only the certificate differs per host.
 * - `bundleFile()` writes the system's roots plus the CA, for clients whose CA variable replaces the
 *   system store (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, CURL_CA_BUNDLE).
 *
 * Validity uses real time, not the emulator clock: clients check certificates against their own clock.
 * Synchronous (a key pair once, a signature per new host): the first TLS handshake for a host costs
 * a few tens of milliseconds, later ones nothing.
 */
export class LocalCa {
  readonly #options: LocalCaOptions;
  #ca: KeyPairWithCertificate | undefined;
  #leafKey: { publicKey: KeyObject; pem: string } | undefined;
  readonly #leaves = new Map<string, { leaf: LeafCertificate; context: SecureContext }>();

  constructor(options: LocalCaOptions) {
    this.#options = options;
  }

  /** Absolute path of the CA certificate (PEM): what NODE_EXTRA_CA_CERTS and `curl --cacert` take. Creates the CA if needed. */
  certFile(): string {
    this.ca();
    return this.#paths().certFile;
  }

  /** The CA certificate, PEM. Creates the CA if needed. */
  certPem(): string {
    return this.ca().certificatePem;
  }

  /**
   * Writes (or refreshes) the combined bundle: the system's trusted roots, then the CA; returns its
   * absolute path. Rewritten only when its content would change.
   * @throws AzimdsError `KEY_STORE` when it cannot be written.
   */
  bundleFile(): string {
    const file = join(resolveDataDir(this.#options.dataDir), DEFAULTS.proxy.ca.bundleFile);
    const content = `${systemRootsPem().trimEnd()}\n# azimds local CA (development only)\n${this.certPem()}`;
    try {
      if (!existsSync(file) || readFileSync(file, 'utf8') !== content) writePrivateFileAtomic(file, content);
    } catch (cause) {
      throw new AzimdsError('KEY_STORE', `cannot write the CA bundle ${file}: ${(cause as Error).message}`, {
        cause,
      });
    }
    return file;
  }

  /** The leaf certificate for `hostname` (lower-cased; minted on first use, then cached). */
  leaf(hostname: string): LeafCertificate {
    return this.#entry(hostname).leaf;
  }

  /** A TLS secure context serving the leaf for `hostname`: for `new tls.TLSSocket(..., { secureContext })`. */
  secureContext(hostname: string): SecureContext {
    return this.#entry(hostname).context;
  }

  /**
   * TLS options for an https listener of a surface's direct endpoint: any host name the client asks
   * for (SNI) gets its own leaf; clients that send none (an IP in the URL) get `defaultHost`'s.
   * @example `https.createServer(state.localCa.serverOptions('127.0.0.1'), handler)`, or fastify's
   * `serverOptions: { https: state.localCa.serverOptions(host) }` in a ListenerSpec.
   */
  serverOptions(defaultHost = 'localhost'): SniServerOptions {
    const fallback = this.leaf(defaultHost);
    return {
      key: fallback.keyPem,
      cert: fallback.certPem,
      SNICallback: (servername, callback) => {
        try {
          callback(null, this.secureContext(servername || defaultHost));
        } catch (error) {
          callback(error as Error);
        }
      },
    };
  }

  /** The CA, loaded or generated on first call. @throws AzimdsError `KEY_STORE`. */
  ca(): KeyPairWithCertificate {
    this.#ca ??= this.#loadOrCreate();
    return this.#ca;
  }

  #paths(): { certFile: string; keyFile: string } {
    const { configured, dataDir } = this.#options;
    if (configured)
      return { certFile: resolveDataDir(configured.certFile), keyFile: resolveDataDir(configured.keyFile) };
    const dir = resolveDataDir(dataDir);
    return { certFile: join(dir, DEFAULTS.proxy.ca.certFile), keyFile: join(dir, DEFAULTS.proxy.ca.keyFile) };
  }

  #loadOrCreate(): KeyPairWithCertificate {
    const { certFile, keyFile } = this.#paths();
    const read = () => loadCa(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8'));
    try {
      if (this.#options.configured || (existsSync(certFile) && existsSync(keyFile))) return read();
      return withFileLock(certFile, () => {
        if (existsSync(certFile) && existsSync(keyFile)) return read();
        const ca = generateLocalCa(Date.now());
        // Key first: a certificate file is never there without its key.
        writePrivateFileAtomic(keyFile, ca.key.export({ type: 'pkcs8', format: 'pem' }) as string);
        writePrivateFileAtomic(certFile, ca.certificatePem);
        return ca;
      });
    } catch (cause) {
      throw new AzimdsError('KEY_STORE', `local CA (${certFile}): ${(cause as Error).message}`, { cause });
    }
  }

  #entry(hostname: string): { leaf: LeafCertificate; context: SecureContext } {
    const name = hostname
      .toLowerCase()
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '');
    let entry = this.#leaves.get(name);
    if (!entry) {
      const leaf = this.#mint(name);
      entry = {
        leaf,
        context: createSecureContext({ key: leaf.keyPem, cert: `${leaf.certPem}${this.certPem()}` }),
      };
      this.#leaves.set(name, entry);
    }
    return entry;
  }

  #mint(name: string): LeafCertificate {
    if (!name || name.length > 253)
      throw new AzimdsError('INVALID_INPUT', `not a host name: ${JSON.stringify(name)}`);
    const ca = this.ca();
    if (!this.#leafKey) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.#leafKey = { publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    }
    const now = Date.now();
    const caEnd = ca.certificate.validity.notAfter.getTime();
    const cert = createCertificate({
      publicKey: this.#leafKey.publicKey,
      signingKey: nativeSigner(ca.key),
      subject: [{ name: 'commonName', value: name }],
      issuer: ca.certificate.subject.attributes,
      notBefore: now - HOUR_MS,
      notAfter: Math.min(now + DEFAULTS.proxy.ca.leafValidityDays * DAY_MS, caEnd),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [isIP(name) ? { type: 7, ip: name } : { type: 2, value: name }] },
        { name: 'subjectKeyIdentifier' },
        {
          name: 'authorityKeyIdentifier',
          keyIdentifier: ca.certificate.generateSubjectKeyIdentifier().getBytes(),
        },
      ],
    });
    return { certPem: pemOf(cert), keyPem: this.#leafKey.pem };
  }
}

/** The local CA of a resolved config: `proxy.ca` when given, else generated in `dataDir` (on first use). */
export function localCaOf(config: Config): LocalCa {
  return new LocalCa({
    dataDir: config.dataDir,
    ...(config.proxy.ca ? { configured: config.proxy.ca } : {}),
  });
}

/** A new CA for the proxy: RSA-2048, SHA-256, CA:TRUE with pathlen 0, keyCertSign, from a day ago. */
function generateLocalCa(now: number): KeyPairWithCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forgeKey = forgePrivateKey(privateKey);
  const cert = createCaCertificate({
    publicKey,
    signingKey: forgeKey,
    commonName: 'azimds local CA (development only, not Microsoft)',
    now,
    validityDays: DEFAULTS.proxy.ca.validityDays,
    pathLenConstraint: 0,
  });
  const certificatePem = pemOf(cert);
  return { certificate: cert, certificatePem, key: privateKey, forgeKey };
}

/** DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2, note 1): what PKCS#1 v1.5 signs. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * `key` as the signer forge's `certificate.sign()` calls (`signer.sign(sha256)` → the signature as a
 * binary string), signing natively: RSASSA-PKCS1-v1_5 over the digest forge computed. Forge's own RSA
 * takes ~100 ms per certificate; this takes well under one, so a new host's handshake does not wait.
 */
function nativeSigner(key: KeyObject): forge.pki.rsa.PrivateKey {
  const sign = (md: forge.md.MessageDigest) =>
    privateEncrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(md.digest().getBytes(), 'binary')]),
    ).toString('binary');
  return { sign } as unknown as forge.pki.rsa.PrivateKey;
}
