import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';
import type pretty from 'pino-pretty';

type PinoPretty = typeof pretty;

/**
 * The emulator's log: pino, pretty-printed when stderr is a terminal, JSON lines otherwise.
 * Logs go to stderr so that stdout carries only what commands print (URLs, env, tokens).
 * Never pass a token, secret or key to it: the redaction list below is the last line of defence.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  const options = {
    level,
    base: undefined,
    redact: {
      paths: [
        'access_token',
        'refresh_token',
        'token',
        'secret',
        'clientSecret',
        'password',
        'authorization',
        '*.access_token',
        '*.token',
        '*.secret',
        '*.clientSecret',
        '*.authorization',
        'req.headers.authorization',
        'req.headers["x-identity-header"]',
        'req.headers.secret',
      ],
      censor: '[redacted]',
    },
  };
  const tty = (destination as NodeJS.WriteStream).isTTY === true;
  if (tty) {
    // Loaded only for a terminal (20–30 ms of start-up that the library and CI never need).
    const pretty = createRequire(import.meta.url)('pino-pretty') as PinoPretty;
    return pino(options, pretty({ colorize: true, sync: true, destination, ignore: 'pid,hostname' }));
  }
  return pino(options, destination as NodeJS.WritableStream);
}
