/**
 * The local CA (src/core/tls/local-ca.ts): owner-only files, leaves per host name with the right SAN
 * that chain to the CA (checked with openssl, as a client would), a configured CA used as given, and
 * the combined bundle.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LocalCa } from '../../src/core/tls/local-ca.js';

const scratch = mkdtempSync(join(tmpdir(), 'azimds-ca-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const posix = process.platform !== 'win32';
const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('local CA', () => {
  const dataDir = join(scratch, 'data');
  const ca = new LocalCa({ dataDir });

  test('is generated once in the data directory, owner-only', {
    skip: posix ? false : 'POSIX permissions',
  }, () => {
    const certFile = ca.certFile();
    assert.equal(certFile, join(dataDir, 'local-ca.crt'));
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(statSync(certFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'local-ca.key')).mode & 0o777, 0o600);
    const x509 = new X509Certificate(readFileSync(certFile));
    assert.equal(x509.ca, true);
    assert.match(x509.subject, /azimds local CA/);
    // A second instance (another process) reads the same CA instead of making a new one.
    assert.equal(new LocalCa({ dataDir }).certPem(), ca.certPem());
  });

  test('mints a leaf per host name: CN and SAN are the name, issued by the CA, sane validity', () => {
    const leaf = new X509Certificate(ca.leaf('Login.MicrosoftOnline.com').certPem);
    assert.equal(leaf.subjectAltName, 'DNS:login.microsoftonline.com');
    assert.equal(leaf.checkHost('login.microsoftonline.com'), 'login.microsoftonline.com');
    assert.equal(leaf.checkHost('management.azure.com'), undefined);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.verify(new X509Certificate(ca.certPem()).publicKey), 'signed by the CA');
    const from = Date.parse(leaf.validFrom);
    const to = Date.parse(leaf.validTo);
    assert.ok(
      from <= Date.now() && to > Date.now() + 300 * 86_400_000,
      `${leaf.validFrom} .. ${leaf.validTo}`,
    );
    assert.ok(to - from <= 398 * 86_400_000, 'no longer than clients accept');
    // Cached: the same certificate for the same name.
    assert.equal(ca.leaf('login.microsoftonline.com').certPem, ca.leaf('Login.MicrosoftOnline.com').certPem);
    // An address gets an IP SAN; a vault name its own DNS SAN.
    assert.equal(
      new X509Certificate(ca.leaf('169.254.169.254').certPem).subjectAltName,
      'IP Address:169.254.169.254',
    );
    assert.equal(
      new X509Certificate(ca.leaf('myvault.vault.azure.net').certPem).subjectAltName,
      'DNS:myvault.vault.azure.net',
    );
  });

  test('chains verify with openssl, for the name asked', {
    skip: openssl ? false : 'openssl is not installed',
  }, () => {
    const leafFile = join(scratch, 'leaf.pem');
    writeFileSync(leafFile, ca.leaf('management.azure.com').certPem);
    const ok = execFileSync('openssl', [
      'verify',
      '-CAfile',
      ca.certFile(),
      '-verify_hostname',
      'management.azure.com',
      leafFile,
    ]).toString();
    assert.match(ok, /: OK/);
    assert.throws(() =>
      execFileSync(
        'openssl',
        ['verify', '-CAfile', ca.certFile(), '-verify_hostname', 'evil.example', leafFile],
        { stdio: 'pipe' },
      ),
    );
    // The bundle (system roots + the CA) verifies it too: what REQUESTS_CA_BUNDLE / SSL_CERT_FILE point at.
    const bundled = execFileSync('openssl', ['verify', '-CAfile', ca.bundleFile(), leafFile]).toString();
    assert.match(bundled, /: OK/);
  });

  test('the bundle holds the system roots and the CA, owner-only', {
    skip: posix ? false : 'POSIX permissions',
  }, () => {
    const file = ca.bundleFile();
    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes(ca.certPem().trim()), 'the CA is in it');
    assert.ok((text.match(/BEGIN CERTIFICATE/g) ?? []).length > 20, 'and the system roots');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('serverOptions: a default certificate and one per SNI name', async () => {
    const options = ca.serverOptions('127.0.0.1');
    assert.equal(new X509Certificate(options.cert).subjectAltName, 'IP Address:127.0.0.1');
    const context = await new Promise((resolve, reject) =>
      options.SNICallback('abc.vault.azure.net', (error, ctx) => (error ? reject(error) : resolve(ctx))),
    );
    assert.equal(context, ca.secureContext('abc.vault.azure.net'));
  });

  test('a configured CA is used as given', () => {
    const dir = join(scratch, 'own');
    const own = new LocalCa({ dataDir: dir });
    own.certFile();
    const configured = new LocalCa({
      dataDir: join(scratch, 'unused'),
      configured: { certFile: join(dir, 'local-ca.crt'), keyFile: join(dir, 'local-ca.key') },
    });
    assert.equal(configured.certPem(), own.certPem());
    assert.ok(
      new X509Certificate(configured.leaf('sts.windows.net').certPem).verify(
        new X509Certificate(own.certPem()).publicKey,
      ),
    );
  });

  test('a configured certificate that is not a CA is refused with KEY_STORE', () => {
    const dir = join(scratch, 'bad');
    const own = new LocalCa({ dataDir: dir });
    const leafFile = join(scratch, 'not-ca.pem');
    writeFileSync(leafFile, own.leaf('x.example').certPem);
    const bad = new LocalCa({
      dataDir: dir,
      configured: { certFile: leafFile, keyFile: join(dir, 'local-ca.key') },
    });
    assert.throws(
      () => bad.certPem(),
      (e: Error & { code?: string }) => e.code === 'KEY_STORE' && /not a CA/.test(e.message),
    );
  });
});
