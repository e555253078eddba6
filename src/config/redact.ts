import type { Config } from './schema.js';

/**
 * The config as azimds shows it (`start --print-config`): secrets masked. Only the Go simulator's
 * `servicePrincipals` can hold any (its format has them inline); azimds's own keys name environment
 * variables or files instead.
 */
export function printableConfig<T extends Pick<Config, 'goSimulator'>>(config: T): T {
  const principals = config.goSimulator?.servicePrincipals;
  if (!principals) return config;
  const masked = Object.fromEntries(Object.keys(principals).map((id) => [id, '[redacted]']));
  return { ...config, goSimulator: { ...config.goSimulator, servicePrincipals: masked } };
}
