/**
 * Where signing keys live: the owner-only key file in the data directory (created once, even by two
 * processes at once; rotated while old tokens stay verifiable; changes seen by a running emulator),
 * a PEM key given in config, or memory.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { resolveConfig } from '../../src/config/load.js';
import { EmulatorClock } from '../../src/core/clock.js';
import { FileKeyStore, MemoryKeyStore, StaticKeyStore } from '../../src/core/tokens/key-store.js';
import { createKeyStore, keyFilePath } from '../../src/core/tokens/service.js';
import { AzimdsError } from '../../src/errors.js';

const run = promisify(execFile);
const posix = process.platform !== 'win32';
const scratch = mkdtempSync(join(tmpdir(), 'azimds-keys-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let n = 0;
/** A fresh, not yet existing data directory. */
const freshDir = () => join(scratch, `data-${++n}`, 'nested');
const isKeyStoreError = (e: unknown) => e instanceof AzimdsError && e.code === 'KEY_STORE';

describe('key file', () => {
  test('is created on first use in an owner-only directory (0700) with owner-only permissions (0600)', {
    skip: posix ? false : 'POSIX permissions',
  }, () => {
    const dir = freshDir();
    const file = join(dir, 'token-signing-keys.json');
    const store = new FileKeyStore(file, new EmulatorClock(), 3600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const content = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(content.format, 'azimds-token-signing-keys');
    assert.equal(content.keys[0].kid, store.signingKey().kid);
  });

  test('gives the same signing key when opened again (tokens survive restarts)', () => {
    const file = join(freshDir(), 'keys.json');
    const first = new FileKeyStore(file, new EmulatorClock(), 3600).signingKey().kid;
    assert.equal(new FileKeyStore(file, new EmulatorClock(), 3600).signingKey().kid, first);
  });

  test('refuses a key file other users can read', { skip: posix ? false : 'POSIX permissions' }, () => {
    const file = join(freshDir(), 'keys.json');
    new FileKeyStore(file, new EmulatorClock(), 3600);
    chmodSync(file, 0o644);
    assert.throws(
      () => new FileKeyStore(file, new EmulatorClock(), 3600),
      (e: unknown) => {
        return isKeyStoreError(e) && /chmod 600/.test((e as Error).message);
      },
    );
  });

  test('refuses a file that is not a key file, naming it', () => {
    const file = join(scratch, 'garbage.json');
    writeFileSync(file, '{"hello":1}', { mode: 0o600 });
    assert.throws(
      () => new FileKeyStore(file, new EmulatorClock(), 3600),
      (e: unknown) => isKeyStoreError(e) && (e as Error).message.startsWith(file),
    );
  });

  test('ends with one key when several processes create it at the same moment', async () => {
    const file = join(freshDir(), 'keys.json');
    const script = [
      `import { FileKeyStore } from ${JSON.stringify(new URL('../../src/core/tokens/key-store.ts', import.meta.url).href)};`,
      `import { EmulatorClock } from ${JSON.stringify(new URL('../../src/core/clock.ts', import.meta.url).href)};`,
      `process.stdout.write(new FileKeyStore(${JSON.stringify(file)}, new EmulatorClock(), 3600).signingKey().kid);`,
    ].join('\n');
    const children = Array.from({ length: 4 }, () =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]),
    );
    const kids = (await Promise.all(children)).map((c) => c.stdout);
    assert.equal(new Set(kids).size, 1, `kids: ${kids.join(', ')}`);
    assert.equal(new FileKeyStore(file, new EmulatorClock(), 3600).signingKey().kid, kids[0]);
  });

  test('rotation by another process (azimds keys rotate) reaches a running store, old key still published', () => {
    const file = join(freshDir(), 'keys.json');
    const clock = new EmulatorClock();
    const running = new FileKeyStore(file, clock, 3600, 0);
    const old = running.signingKey().kid;
    const cli = new FileKeyStore(file, new EmulatorClock(), 3600);
    const fresh = cli.rotate();
    assert.equal(running.signingKey().kid, fresh.kid);
    assert.deepEqual(
      running.publicKeys().map((k) => k.kid),
      [fresh.kid, old],
    );
    if (posix) assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('drops a retired key from the file at a later rotation once its tokens have expired', () => {
    const file = join(freshDir(), 'keys.json');
    const clock = new EmulatorClock();
    const store = new FileKeyStore(file, clock, 3600, 0);
    const first = store.signingKey().kid;
    const second = store.rotate().kid;
    clock.advance((3600 + 601) * 1000);
    const third = store.rotate().kid;
    const kids = JSON.parse(readFileSync(file, 'utf8')).keys.map((k: { kid: string }) => k.kid);
    assert.deepEqual(kids, [third, second]);
    assert.ok(!kids.includes(first));
  });
});

describe('key sources', () => {
  test('uses a PEM private key given in config and refuses to rotate it', () => {
    const pemFile = join(scratch, 'signing.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(pemFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const config = resolveConfig({ tokens: { keys: { privateKeyFile: pemFile } } });
    const store = createKeyStore(config, new EmulatorClock());
    assert.ok(store instanceof StaticKeyStore);
    assert.equal(store.signingKey().kid, new StaticKeyStore(pemFile, 0).signingKey().kid);
    assert.throws(() => store.rotate(), isKeyStoreError);
  });

  test('refuses a PEM key that is not RSA or is too short', () => {
    const pemFile = join(scratch, 'ec.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(pemFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    assert.throws(() => new StaticKeyStore(pemFile, 0), isKeyStoreError);
    const short = join(scratch, 'short.pem');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    writeFileSync(short, small.export({ format: 'pem', type: 'pkcs1' }), { mode: 0o600 });
    assert.throws(() => new StaticKeyStore(short, 0), isKeyStoreError);
  });

  test('memory stores prepare the process key in the background and share it until rotated', async () => {
    const a = new MemoryKeyStore(new EmulatorClock(), 3600);
    const b = new MemoryKeyStore(new EmulatorClock(), 3600);
    await Promise.all([a.ready(), b.ready()]);
    assert.equal(a.signingKey().kid, b.signingKey().kid);
    const rotated = a.rotate();
    assert.notEqual(rotated.kid, b.signingKey().kid);
    assert.deepEqual(
      a.publicKeys().map((k) => k.kid),
      [rotated.kid, b.signingKey().kid],
    );
  });

  test('keeps keys in memory when tokens.keys.store is memory', () => {
    const config = resolveConfig({ dataDir: freshDir(), tokens: { keys: { store: 'memory' } } });
    assert.ok(createKeyStore(config, new EmulatorClock()) instanceof MemoryKeyStore);
  });

  test('puts the key file below dataDir unless an absolute path is given', () => {
    const dataDir = freshDir();
    assert.equal(keyFilePath(resolveConfig({ dataDir })), join(dataDir, 'token-signing-keys.json'));
    const absolute = join(scratch, 'elsewhere.json');
    assert.equal(keyFilePath(resolveConfig({ dataDir, tokens: { keys: { file: absolute } } })), absolute);
  });
});
