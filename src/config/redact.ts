import type { Config } from './schema.js';

/**
 * The config as azimds shows it (`start --print-config`): secrets masked. The Go simulator's
 * `servicePrincipals` (its format has them inline), `entra.applications[].secrets[].value` and the
 * platforms' fixed `secret`s; azimds's other keys name environment variables or files instead.
 */
export function printableConfig<T extends Pick<Config, 'goSimulator'>>(config: T): T {
  const printable = maskEntraSecrets(redactPlatformSecrets(config));
  const principals = printable.goSimulator?.servicePrincipals;
  if (!principals) return printable;
  const masked = Object.fromEntries(Object.keys(principals).map((id) => [id, '[redacted]']));
  return { ...printable, goSimulator: { ...printable.goSimulator, servicePrincipals: masked } };
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

/** `platforms.<name>.secret` (App Service, Service Fabric, Azure ML header secrets) read `[redacted]`. */
function redactPlatformSecrets<T>(config: T): T {
  const platforms = (config as { platforms?: Record<string, Record<string, unknown>> }).platforms;
  if (!platforms) return config;
  const masked = Object.fromEntries(
    Object.entries(platforms).map(([id, p]) => [
      id,
      p && typeof p === 'object' && p.secret !== undefined ? { ...p, secret: '[redacted]' } : p,
    ]),
  );
  return { ...config, platforms: masked };
}
