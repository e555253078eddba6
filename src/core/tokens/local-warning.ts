/** The log methods the warning needs (a pino logger fits). */
interface WarnLog {
  warn(message: string): void;
  isLevelEnabled?(level: string): boolean;
}

let warned = false;

/**
 * Warns once per process that tokens are minted locally: they look like Entra's but only azimds's
 * JWKS verifies them, so Azure services reject them. A silent logger does not use up the warning.
 */
export function warnLocalTokensOnce(log: WarnLog): void {
  if (warned || log.isLevelEnabled?.('warn') === false) return;
  warned = true;
  log.warn(
    'managed-identity tokens are minted locally by azimds: signed with its own keys, verifiable only against its JWKS, and rejected by every Azure service',
  );
}
