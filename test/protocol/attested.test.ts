/**
 * `/metadata/attested/document` (protocols.md §3; Microsoft's IMDS doc, "Attested data"): the PKCS#7
 * signature is verified here independently of azimds' signing code, with node-forge (parse) and
 * node:crypto (RSA, X.509 chain), and with the openssl CLI when the machine has it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { verify, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import forge from 'node-forge';
import { attestationSchema } from '../../src/config/attestation.js';
import { vmSchema } from '../../src/config/schema.js';
import { Attestation } from '../../src/core/attestation/attestation.js';
import { attestedContent } from '../../src/core/attestation/content.js';
import { EmulatorClock } from '../../src/core/clock.js';
import { Machine } from '../../src/core/machines/machine.js';
import { AzimdsError } from '../../src/errors.js';
import { startEmulator } from '../../src/server/emulator.js';
import { BOTH, type ImdsClient, openImds } from '../support/imds-client.js';

const root = mkdtempSync(join(tmpdir(), 'azimds-attested-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `data-${++dirs}`);

const VM = {
  compute: {
    name: 'web-01',
    vmId: '02aab8a4-74ef-476e-8182-f6d2ba4166a6',
    subscriptionId: 'aaaa0a0a-bb1b-4c2c-9d3d-eeeeee4e4e4e',
    sku: 'Windows-Server-2012-R2-Datacenter',
    plan: { name: 'planName', product: 'planProduct', publisher: 'planPublisher' },
  },
};

/** What a verifier learns from a signature: the signed JSON, the signer, whether the RSA signature holds. */
function openSignature(base64: string) {
  const der = Buffer.from(base64, 'base64');
  const asn1 = forge.asn1.fromDer(der.toString('binary'));
  const p7 = forge.pkcs7.messageFromAsn1(asn1) as forge.pkcs7.PkcsSignedData & {
    rawCapture: { content: forge.asn1.Asn1; signature: string; digestAlgorithm: string };
  };
  // [0] EXPLICIT { OCTET STRING content }
  const octets = (p7.rawCapture.content.value as forge.asn1.Asn1[])[0]?.value as string;
  const content = Buffer.from(octets, 'binary');
  assert.equal(p7.certificates.length, 1, 'only the signer certificate is embedded, as on Azure');
  const signer = new X509Certificate(forge.pki.certificateToPem(p7.certificates[0] as forge.pki.Certificate));
  const signature = Buffer.from(p7.rawCapture.signature, 'binary');
  return {
    der,
    content,
    json: JSON.parse(content.toString('utf8')),
    signer,
    digestOid: forge.asn1.derToOid(p7.rawCapture.digestAlgorithm),
    valid: verify('sha256', content, signer.publicKey, signature),
  };
}

for (const transport of BOTH) {
  describe(`attested document over ${transport}`, () => {
    let imds: ImdsClient;
    before(async () => {
      imds = await openImds(transport, { dataDir: freshDir(), vm: VM });
    });
    after(() => imds.close());

    test('answers {"encoding":"pkcs7","signature":...} signed with SHA-256/RSA by a leaf for emulator.metadata.azure.com', async () => {
      const res = await imds.json('/metadata/attested/document?api-version=2021-02-01&nonce=abcde12345');
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(Object.keys(res.body), ['encoding', 'signature']);
      assert.equal(res.body.encoding, 'pkcs7');
      const opened = openSignature(res.body.signature);
      assert.equal(opened.valid, true, 'RSA signature over the embedded content');
      assert.equal(opened.digestOid, forge.pki.oids.sha256);
      assert.equal(opened.signer.subjectAltName, 'DNS:emulator.metadata.azure.com');
      assert.equal(opened.json.nonce, 'abcde12345');
      assert.equal(opened.json.vmId, VM.compute.vmId);
    });

    test('signs with a certificate issued by the CA that caCertificatePem() returns', async () => {
      const res = await imds.json('/metadata/attested/document?api-version=2021-02-01');
      const { signer } = openSignature(res.body.signature);
      const ca = new X509Certificate(await imds.state.attestation.caCertificatePem());
      assert.equal(ca.ca, true);
      assert.equal(signer.checkIssued(ca), true);
      assert.equal(signer.verify(ca.publicKey), true);
      assert.equal(signer.toString(), await imds.state.attestation.signerCertificatePem());
    });

    test('uses the emulator clock for the default nonce (UTC YYYYMMDD-HHMMSS) and timeStamp', async () => {
      imds.state.clock.set(Date.UTC(2018, 10, 28, 0, 16, 17));
      const res = await imds.json('/metadata/attested/document?api-version=2020-09-01');
      imds.state.clock.reset();
      const { json } = openSignature(res.body.signature);
      assert.match(json.nonce, /^20181128-00161[78]$/);
      assert.match(json.timeStamp.createdOn, /^11\/28\/18 00:16:1[78] -0000$/);
      assert.match(json.timeStamp.expiresOn, /^11\/28\/18 06:16:1[78] -0000$/, 'six hours later');
    });

    test('rejects a nonce that is not 1-32 letters and digits with 400', async () => {
      for (const nonce of ['abc-123', 'x'.repeat(33), '%20']) {
        const res = await imds.json(`/metadata/attested/document?api-version=2021-02-01&nonce=${nonce}`);
        assert.equal(res.status, 400, nonce);
        assert.match(
          res.body.error,
          /^Parameter value is not allowed, or parameter value ".*" is not allowed for parameter "nonce"/,
        );
      }
      const ok = await imds.json(
        `/metadata/attested/document?api-version=2021-02-01&nonce=${'Z9'.repeat(16)}`,
      );
      assert.equal(ok.status, 200);
    });

    test('requires an IMDS api-version of 2018-10-01 or later', async () => {
      for (const v of ['2018-04-02', '2017-08-01', '2020-07-01' /* a scheduled-events version */, '']) {
        const res = await imds.json(`/metadata/attested/document?api-version=${v}`);
        assert.equal(res.status, 400, v);
        assert.deepEqual(res.body['newest-versions'], ['2025-04-07', '2024-07-17', '2024-03-15']);
      }
    });

    test('applies the IMDS checks: Metadata header, X-Forwarded-For, GET only', async () => {
      const path = '/metadata/attested/document?api-version=2021-02-01';
      assert.equal((await imds.request(path, { metadata: false })).status, 400);
      assert.equal((await imds.request(path, { headers: { 'X-Forwarded-For': '1.2.3.4' } })).status, 400);
      const post = await imds.request(path, { method: 'POST', body: '{}' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET');
    });
  });
}

describe('the signed JSON per api-version', () => {
  const facts = {
    vmId: 'd3e0e374-fda6-4649-bbc9-7f20dc379f34',
    subscriptionId: 'aaaa0a0a-bb1b-4c2c-9d3d-eeeeee4e4e4e',
    sku: 'RS3-Pro',
    licenseType: 'Windows_Client',
    plan: { name: '', product: '', publisher: '' },
  };
  const created = Date.UTC(2018, 10, 28, 0, 16, 17);
  const expires = created + 6 * 3_600_000;
  const keys = (v: string, f = facts) =>
    Object.keys(JSON.parse(attestedContent(f, v, '20181128-001617', created, expires)));

  test('2018-10-01 signs nonce, plan, timeStamp and vmId', () => {
    assert.deepEqual(keys('2018-10-01'), ['nonce', 'plan', 'timeStamp', 'vmId']);
  });

  test('2019-04-30 adds subscriptionId; 2019-11-01 adds sku', () => {
    assert.deepEqual(keys('2019-04-30'), ['nonce', 'plan', 'timeStamp', 'vmId', 'subscriptionId']);
    assert.deepEqual(keys('2019-11-01'), ['nonce', 'plan', 'timeStamp', 'vmId', 'subscriptionId', 'sku']);
  });

  test('2020-09-01 adds licenseType only for an Azure Hybrid Benefit VM', () => {
    assert.deepEqual(keys('2020-09-01'), [
      'nonce',
      'plan',
      'timeStamp',
      'vmId',
      'licenseType',
      'subscriptionId',
      'sku',
    ]);
    assert.deepEqual(keys('2020-09-01', { ...facts, licenseType: '' }), [
      'nonce',
      'plan',
      'timeStamp',
      'vmId',
      'subscriptionId',
      'sku',
    ]);
  });

  test("matches Microsoft's documented example byte for byte (compact JSON)", () => {
    assert.equal(
      attestedContent(facts, '2025-04-07', '20181128-001617', created, expires),
      '{"nonce":"20181128-001617","plan":{"name":"","product":"","publisher":""},' +
        '"timeStamp":{"createdOn":"11/28/18 00:16:17 -0000","expiresOn":"11/28/18 06:16:17 -0000"},' +
        '"vmId":"d3e0e374-fda6-4649-bbc9-7f20dc379f34","licenseType":"Windows_Client",' +
        '"subscriptionId":"aaaa0a0a-bb1b-4c2c-9d3d-eeeeee4e4e4e","sku":"RS3-Pro"}',
    );
  });

  test('serves the VM plan, sku and licenseType from the instance document', async () => {
    const imds = await openImds('inject', {
      dataDir: freshDir(),
      vm: { compute: { ...VM.compute, licenseType: 'Windows_Server' } },
    });
    try {
      const res = await imds.json('/metadata/attested/document?api-version=2021-02-01&nonce=1');
      const { json } = openSignature(res.body.signature);
      assert.deepEqual(json.plan, VM.compute.plan);
      assert.equal(json.sku, VM.compute.sku);
      assert.equal(json.subscriptionId, VM.compute.subscriptionId);
      assert.equal(json.licenseType, 'Windows_Server');
    } finally {
      await imds.close();
    }
  });
});

describe('the attestation CA', () => {
  const clock = new EmulatorClock();
  const machine = new Machine(vmSchema.parse({}));
  const config = attestationSchema.parse({});

  test('is created on first use in dataDir, owner-only, and not before', async () => {
    const dataDir = freshDir();
    const emulator = await startEmulator({ dataDir });
    try {
      const file = emulator.state.attestation.caFile as string;
      assert.equal(file, join(dataDir, 'attestation-ca.pem'));
      assert.equal(existsSync(file), false, 'nothing written until attested data is asked for');
      const pem = await emulator.state.attestation.caCertificatePem();
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(
        readFileSync(file, 'utf8'),
        /-----BEGIN PRIVATE KEY-----[\s\S]+-----BEGIN CERTIFICATE-----/,
      );
      assert.equal(new X509Certificate(pem).ca, true);
    } finally {
      await emulator.close();
    }
  });

  test('is reused by later emulators, and two starting at once agree on one', async () => {
    const dataDir = freshDir();
    const a = new Attestation({ clock, machine, config, dataDir });
    const b = new Attestation({ clock, machine, config, dataDir });
    const [pemA, pemB] = await Promise.all([a.caCertificatePem(), b.caCertificatePem()]);
    assert.equal(pemA, pemB);
    const c = new Attestation({ clock, machine, config, dataDir });
    assert.equal(await c.caCertificatePem(), pemA);
  });

  test('can be given in the config (PEM text or files); then nothing is written to dataDir', async () => {
    const source = freshDir();
    const generated = new Attestation({ clock, machine, config, dataDir: source });
    await generated.caCertificatePem();
    const text = readFileSync(join(source, 'attestation-ca.pem'), 'utf8');
    const certificate = text.slice(text.indexOf('-----BEGIN CERTIFICATE-----'));
    const privateKey = text.slice(0, text.indexOf('-----BEGIN CERTIFICATE-----'));
    const keyFile = join(root, 'given-key.pem');
    writeFileSync(keyFile, privateKey, { mode: 0o600 });
    const dataDir = freshDir();
    const imds = await openImds('inject', {
      dataDir,
      attestation: {
        ca: { certificate, privateKey: keyFile },
        dnsNames: ['eastus.metadata.azure.com', 'metadata.azure.com'],
      },
    });
    try {
      assert.equal(imds.state.attestation.caFile, undefined);
      const res = await imds.json('/metadata/attested/document?api-version=2021-02-01');
      const { signer, valid } = openSignature(res.body.signature);
      assert.equal(valid, true);
      assert.equal(signer.verify(new X509Certificate(certificate).publicKey), true);
      assert.equal(signer.subjectAltName, 'DNS:eastus.metadata.azure.com, DNS:metadata.azure.com');
      assert.equal(existsSync(join(dataDir, 'attestation-ca.pem')), false);
    } finally {
      await imds.close();
    }
  });

  test('refuses an unusable CA in the config at start with CONFIG_INVALID', async () => {
    const leafOnly = await new Attestation({
      clock,
      machine,
      config,
      dataDir: freshDir(),
    }).signerCertificatePem();
    const key = readFileSync(join(root, 'given-key.pem'), 'utf8');
    for (const ca of [
      { certificate: 'not a pem', privateKey: key },
      { certificate: leafOnly, privateKey: key },
      { certificate: join(root, 'missing.pem'), privateKey: key },
    ]) {
      await assert.rejects(
        startEmulator({ dataDir: freshDir(), attestation: { ca } }),
        (e: unknown) =>
          e instanceof AzimdsError && e.code === 'CONFIG_INVALID' && /attestation\.ca/.test(e.message),
      );
    }
  });

  test('reports a CA file it cannot read as KEY_STORE, naming the file', async () => {
    const dataDir = freshDir();
    const a = new Attestation({ clock, machine, config, dataDir });
    execFileSync('mkdir', ['-p', dataDir]);
    writeFileSync(join(dataDir, 'attestation-ca.pem'), 'garbage', { mode: 0o600 });
    await assert.rejects(a.caCertificatePem(), (e: unknown) => {
      return e instanceof AzimdsError && e.code === 'KEY_STORE' && e.message.includes('attestation-ca.pem');
    });
  });
});

const openssl = spawnSync('openssl', ['version']).status === 0;

test('verifies with the openssl CLI (smime and cms) against the emulator CA', {
  skip: openssl ? false : 'openssl is not installed on this machine',
}, async () => {
  const imds = await openImds('http', { dataDir: freshDir(), vm: VM });
  try {
    const res = await imds.json('/metadata/attested/document?api-version=2021-02-01&nonce=1234567890');
    const der = join(root, 'signature.der');
    const ca = join(root, 'ca.pem');
    writeFileSync(der, Buffer.from(res.body.signature, 'base64'));
    writeFileSync(ca, await imds.state.attestation.caCertificatePem());
    // Azure's signing certificate is a TLS one (serverAuth, clientAuth), as is azimds': -purpose any.
    for (const command of ['smime', 'cms']) {
      const out = execFileSync(
        'openssl',
        [command, '-verify', '-inform', 'DER', '-in', der, '-CAfile', ca, '-purpose', 'any'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const json = JSON.parse(out.toString('utf8'));
      assert.equal(json.nonce, '1234567890', command);
      assert.equal(json.vmId, VM.compute.vmId, command);
    }
    // A CA that did not issue the signer fails verification.
    const other = new Attestation({
      clock: new EmulatorClock(),
      machine: new Machine(vmSchema.parse({})),
      config: attestationSchema.parse({}),
      dataDir: freshDir(),
    });
    writeFileSync(ca, await other.caCertificatePem());
    const rejected = spawnSync('openssl', [
      'smime',
      '-verify',
      '-inform',
      'DER',
      '-in',
      der,
      '-CAfile',
      ca,
      '-purpose',
      'any',
    ]);
    assert.notEqual(rejected.status, 0);
  } finally {
    await imds.close();
  }
});
