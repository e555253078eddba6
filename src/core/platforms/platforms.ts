import type { Config } from '../../config/schema.js';
import type { Clock } from '../clock.js';
import { arcTokenDir } from './arc-challenges.js';
import { platformHost } from './environment.js';
import { PlatformSecrets } from './secrets.js';
import { serviceFabricCertificate, type TlsCertificate } from './tls-certificate.js';

/**
 * What the managed-identity platforms need beyond config, shared by their listeners, the library
 * handle (`handle.env()`) and `azimds env`: the secrets clients present, the Service Fabric TLS
 * certificate, the Arc challenge directory. Everything is created on first use.
 */
export class Platforms {
  readonly secrets: PlatformSecrets;
  readonly #config: Config;
  readonly #clock: Clock;
  #certificate: TlsCertificate | undefined;

  constructor(config: Config, clock: Clock) {
    this.#config = config;
    this.#clock = clock;
    this.secrets = new PlatformSecrets(config);
  }

  /**
   * The Service Fabric endpoint's TLS certificate (configured, or generated in `dataDir`).
   * @throws AzimdsError `KEY_STORE` when it cannot be read or created.
   */
  certificate(): TlsCertificate {
    const sf = this.#config.platforms.serviceFabric;
    this.#certificate ??= serviceFabricCertificate({
      dataDir: this.#config.dataDir,
      host: platformHost(this.#config, 'serviceFabric'),
      now: this.#clock.now(),
      ...(sf.certificate ? { configured: sf.certificate } : {}),
    });
    return this.#certificate;
  }

  /** Where Arc challenge files go (`platforms.arc.tokenDir`, else the agent's directory). */
  arcTokenDir(): string {
    return arcTokenDir(this.#config.platforms.arc.tokenDir, this.#config.dataDir);
  }
}
