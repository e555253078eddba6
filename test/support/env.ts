/**
 * process.env changes a test makes and undoes: for the Azure SDKs run in this process (they read the
 * environment when a credential is built) and for token sources that read variables.
 */
import { MANAGED_IDENTITY_VARIABLES, NO_PROXY_HOSTS } from '../../src/core/platforms/environment.js';

/** Sets and removes variables, keeping each one's value from before its first change for `restore()`. */
export class EnvChanges {
  readonly #saved = new Map<string, string | undefined>();

  /** Remembers `names` as they are now, for a test that then changes them directly. */
  keep(names: Iterable<string>): this {
    for (const name of names) if (!this.#saved.has(name)) this.#saved.set(name, process.env[name]);
    return this;
  }

  /** Sets each variable, or removes it where the value is `undefined`. */
  apply(vars: Readonly<Record<string, string | undefined>>): this {
    for (const [name, value] of Object.entries(vars)) {
      this.keep([name]);
      setVariable(name, value);
    }
    return this;
  }

  /** Puts every changed or kept variable back as it was (removed where it was absent). */
  restore(): void {
    for (const [name, value] of this.#saved) setVariable(name, value);
    this.#saved.clear();
  }
}

function setVariable(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** Runs `fn` with `vars` applied (`undefined`: removed), then restores them whatever happens. */
export async function withEnv<T>(
  vars: Readonly<Record<string, string | undefined>>,
  fn: () => Promise<T>,
): Promise<T> {
  const changes = new EnvChanges().apply(vars);
  try {
    return await fn();
  } finally {
    changes.restore();
  }
}

/** Proxy variables: a proxy would take loopback requests elsewhere. */
export const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const;

/**
 * Variables besides the managed-identity ones (MANAGED_IDENTITY_VARIABLES) that send @azure/identity to
 * another credential (EnvironmentCredential, WorkloadIdentityCredential, the credential chain's choice)
 * or another authority.
 */
export const CREDENTIAL_VARIABLES = [
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  'AZURE_TENANT_ID',
  'AZURE_USERNAME',
  'AZURE_PASSWORD',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_AUTHORITY_HOST',
  'AZURE_TOKEN_CREDENTIALS',
] as const;

/**
 * Points SDK code running in this process at the IMDS of `imdsUrl` alone, as azimds's `imds`
 * environment does: removes every managed-identity, credential and proxy variable, then sets
 * AZURE_POD_IDENTITY_AUTHORITY_HOST and NO_PROXY. `restore()` the result after the tests.
 */
export function imdsOnlyEnvironment(imdsUrl: string): EnvChanges {
  const changes = new EnvChanges();
  for (const name of [...MANAGED_IDENTITY_VARIABLES, ...CREDENTIAL_VARIABLES, ...PROXY_VARIABLES]) {
    changes.apply({ [name]: undefined });
  }
  return changes.apply({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imdsUrl, NO_PROXY: NO_PROXY_HOSTS });
}
