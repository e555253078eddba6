import type { Config } from './schema.js';

/**
 * The config as azimds shows it (`start --print-config`): secrets masked. The Go simulator's
 * `servicePrincipals` (its format has them inline) and `entra.applications[].secrets[].value`; other
 * keys name environment variables or files instead.
 */
export function printableConfig<T extends Pick<Config, 'goSimulator'>>(config: T): T {
  const principals = config.goSimulator?.servicePrincipals;
  if (!principals) return maskEntraSecrets(config);
  const masked = Object.fromEntries(Object.keys(principals).map((id) => [id, '[redacted]']));
  return maskEntraSecrets({ ...config, goSimulator: { ...config.goSimulator, servicePrincipals: masked } });
}

/** Inline client secrets of `entra.applications` (`value`) masked the same way. */
function maskEntraSecrets<T>(config: T): T {
  const entra = (config as { entra?: Config['entra'] }).entra;
  if (!entra?.applications?.some((a) => a.secrets.some((s) => s.value !== undefined))) return config;
  const applications = entra.applications.map((a) => ({
    ...a,
    secrets: a.secrets.map((s) => (s.value === undefined ? s : { ...s, value: '[redacted]' })),
  }));
  return { ...config, entra: { ...entra, applications } };
}
