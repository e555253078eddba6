/**
 * What token sources log through (a pino logger fits). Sources pass objects of plain facts — source name,
 * client id, resource, a scrubbed reason — and never a token, secret or key.
 */
export interface SourceLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** A log that drops everything (library use without a logger, unit tests). */
export const silentLog: SourceLog = { warn() {}, info() {}, debug() {} };
