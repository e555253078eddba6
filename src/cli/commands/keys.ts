import type { Command } from 'commander';
import type { Config } from '../../config/schema.js';
import { EmulatorClock } from '../../core/clock.js';
import { retentionMs } from '../../core/tokens/key-store.js';
import { createKeyStore } from '../../core/tokens/service.js';
import { AzimdsError } from '../../errors.js';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../options.js';

type KeysFlags = ConfigFlags;

/**
 * `azimds keys list|rotate`: the token signing keys in the key file (`dataDir`). A running emulator
 * that uses the same file starts signing with the new key within a second of a rotation; the old key
 * stays in its JWKS until every token it signed has expired.
 */
export function registerKeysCommands(
  program: Command,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): void {
  const keys = program.command('keys').description('list or rotate the token signing keys (kept in dataDir)');
  withConfigOptions(
    keys.command('list').description('list the signing key and the retired keys still published'),
  ).action((flags: KeysFlags) => {
    const config = keysConfig(flags);
    const store = createKeyStore(config, new EmulatorClock());
    const retention = retentionMs(config.tokens.lifetimeSeconds);
    out.write(`${store.location}\n`);
    for (const key of store.publicKeys()) {
      const status =
        key.retiredAt === undefined
          ? 'signing'
          : `retired ${iso(key.retiredAt)}, published until ${iso(key.retiredAt + retention)}`;
      out.write(`  ${key.kid}  created ${iso(key.createdAt)}  ${status}\n`);
    }
  });

  withConfigOptions(
    keys
      .command('rotate')
      .description(
        'sign new tokens with a new key; tokens signed by the old one stay verifiable until they expire',
      ),
  ).action((flags: KeysFlags) => {
    const config = keysConfig(flags);
    const clock = new EmulatorClock();
    const store = createKeyStore(config, clock);
    const old = store.signingKey();
    const fresh = store.rotate();
    const until = iso(clock.now() + retentionMs(config.tokens.lifetimeSeconds));
    out.write(`${fresh.kid}\n`);
    err.write(
      `azimds: new signing key ${fresh.kid} in ${store.location}; ${old.kid} stays published until ${until}. A running emulator using this file switches within a second.\n`,
    );
  });
  for (const command of keys.commands) command.exitOverride();
}

/** The config of a keys command; only the key file can be listed or rotated from outside the emulator. */
function keysConfig(flags: KeysFlags): Config {
  const config = configFromFlags(flags);
  if (config.tokens.keys.privateKeyFile) return config;
  if (config.tokens.keys.store === 'memory') {
    throw new AzimdsError(
      'KEY_STORE',
      'tokens.keys.store is memory: the keys live only inside the running emulator (rotate them there, e.g. handle.state.tokens.rotateKeys())',
    );
  }
  return config;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
