/**
 * The `azimds` command as users run it: the built CLI (dist/cli/main.js, built by `npm test` before the
 * tests; run `npm run build` first when running this file alone), spawned with Node ≥ 22 from
 * node_modules/.bin. Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { assertCliBuilt, cliEnv, type Finished, freePort, ROOT, runCli, startCli } from '../support/cli.js';

const GO_CONFIG = join(ROOT, 'test/fixtures/go-simulator-config.json');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const dir = mkdtempSync(join(tmpdir(), 'azimds-cli-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI to completion: no AZIMDS_* from the caller, state kept in a temp dir, `env` added. */
function run(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return runCli(args, cliEnv(join(dir, 'data'), env));
}

/** Starts `azimds start ...` and resolves once it has printed where it listens (`url`: IMDS). */
async function start(args: string[], env: Record<string, string> = {}) {
  const started = await startCli(
    ['start', ...args],
    cliEnv(join(dir, 'data'), env),
    (out) => /AZURE_POD_IDENTITY_AUTHORITY_HOST=(\S+)/.exec(out)?.[1],
  );
  return { ...started, url: started.value };
}

/** True when a TCP connection to 127.0.0.1:port is refused. */
async function nothingListensOn(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/metadata/versions`, { headers: { Metadata: 'true' } });
    return false;
  } catch {
    return true;
  }
}

/** `compute/<leaf>` of a running emulator, as text (fails unless 200). */
async function computeText(base: string, leaf: string): Promise<string> {
  const res = await fetch(`${base}/metadata/instance/compute/${leaf}?api-version=2020-09-01&format=text`, {
    headers: { Metadata: 'true' },
  });
  assert.equal(res.status, 200);
  return res.text();
}

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

before(() => assertCliBuilt());

describe('azimds --help and --version', { concurrency: true }, () => {
  test('--help lists the commands and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: azimds/);
    assert.match(r.stdout, /\bstart\b/);
    assert.match(r.stdout, /\bconfig\b/);
  });

  test('--version prints the package version and exits 0', async () => {
    const r = await run(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), VERSION);
  });

  test('start --help lists every start option and exits 0', async () => {
    const r = await run(['start', '--help']);
    assert.equal(r.code, 0);
    for (const option of ['--config', '--host', '--port', '--log-level', '--print-config']) {
      assert.ok(r.stdout.includes(option), option);
    }
  });

  test('config --help lists validate and schema', async () => {
    const r = await run(['config', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /validate/);
    assert.match(r.stdout, /schema/);
  });

  test('an unknown command exits 2', async () => {
    const r = await run(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /frobnicate/);
  });
});

describe('azimds start', { concurrency: true }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`--port 0 prints the URL and the SDK environment, answers IMDS, and exits 0 on ${signal}`, async () => {
      const cli = await start(['--port', '0']);
      try {
        const port = Number(new URL(cli.url).port);
        assert.ok(port > 0, cli.url);
        assert.match(cli.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.ok(cli.stdout().includes(`${cli.url}/metadata/instance?api-version=`), cli.stdout());
        assert.match(cli.stdout(), /NO_PROXY=\S*127\.0\.0\.1/);
        assert.equal(await computeText(cli.url, 'osType'), 'Linux');
        // The banner names the machine IMDS describes: its vmId is the one served.
        assert.ok(cli.stdout().includes(`vmId ${await computeText(cli.url, 'vmId')}`), cli.stdout());
      } finally {
        cli.child.kill(signal);
      }
      const finished = await cli.exited;
      assert.equal(finished.code, 0, finished.stderr);
      assert.equal(await nothingListensOn(Number(new URL(cli.url).port)), true);
    });
  }

  for (const [what, args, env, leaf, expected] of [
    [
      'the VM of a config file given with --config',
      ['--config', configFile('vm.yaml', 'vm:\n  compute:\n    name: from-file\n')],
      {},
      'name',
      'from-file',
    ],
    [
      "the Go simulator's config.json given unchanged",
      ['--config', GO_CONFIG],
      {},
      'vmSize',
      'Standard_D2s_v3',
    ],
    [
      'the config file named by AZIMDS_CONFIG',
      [],
      { AZIMDS_CONFIG: configFile('env.yaml', 'vm:\n  compute:\n    name: from-env\n') },
      'name',
      'from-env',
    ],
  ] as const) {
    test(`serves ${what}`, async () => {
      const cli = await start(['--port', '0', ...args], env);
      try {
        assert.equal(await computeText(cli.url, leaf), expected);
      } finally {
        cli.child.kill('SIGTERM');
      }
      assert.equal((await cli.exited).code, 0);
    });
  }

  test('a bad value in the config file exits 2 with one message naming the field, and nothing listens', async () => {
    const port = await freePort();
    const path = configFile('bad.yaml', `imds:\n  port: ${port}\n  strictMetadataHeader: maybe\n`);
    const r = await run(['start', '--config', path]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '', 'nothing printed on stdout: no URL, no banner');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', /^azimds: .*bad\.yaml: imds\.strictMetadataHeader: /);
    assert.equal(await nothingListensOn(port), true);
  });

  test('an unknown key in the config file exits 2 naming the key', async () => {
    const path = configFile('unknown.yaml', 'imds:\n  prot: 80\n');
    const r = await run(['start', '--config', path]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /imds: unknown key "prot"/);
  });

  test('a config file that does not exist exits 2 naming the file', async () => {
    const r = await run(['start', '--config', join(dir, 'missing.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing\.yaml/);
    assert.equal(r.stdout, '');
  });

  test('a bad --port exits 2 with one message naming the flag and the field', async () => {
    const r = await run(['start', '--port', 'eighty']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^azimds: --port: imds\.port: /);
  });

  test('a bad AZIMDS_PORT exits 2 naming the variable', async () => {
    const r = await run(['start'], { AZIMDS_PORT: 'x' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /AZIMDS_PORT: imds\.port: /);
  });

  test('a --log-level outside the choices exits 2', async () => {
    const r = await run(['start', '--log-level', 'loud']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /loud/);
  });

  test('an unknown flag exits 2', async () => {
    const r = await run(['start', '--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--bogus/);
  });

  test('a port already in use exits 1 saying so', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const r = await run(['start', '--port', String(port)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /already in use/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('azimds start --print-config', { concurrency: true }, () => {
  test('prints the resolved config as YAML and exits without listening', async () => {
    const r = await run(['start', '--print-config']);
    assert.equal(r.code, 0, r.stderr);
    const printed = parseYaml(r.stdout) as {
      host: string;
      imds: { port: number };
      vm: { compute: { vmId: string } };
    };
    assert.equal(printed.host, '127.0.0.1');
    assert.equal(printed.imds.port, 8169);
    assert.match(printed.vm.compute.vmId, /^[0-9a-f-]{36}$/);
  });

  test('honours the precedence flags > environment > file > defaults', async () => {
    const path = configFile('precedence.yaml', 'host: 127.0.0.2\nlogLevel: warn\nimds:\n  port: 1111\n');
    const fileOnly = parseYaml((await run(['start', '--print-config', '--config', path])).stdout);
    assert.deepEqual([fileOnly.host, fileOnly.logLevel, fileOnly.imds.port], ['127.0.0.2', 'warn', 1111]);

    const env = { AZIMDS_PORT: '2222', AZIMDS_LOG_LEVEL: 'error' };
    const withEnv = parseYaml((await run(['start', '--print-config', '--config', path], env)).stdout);
    assert.deepEqual([withEnv.host, withEnv.logLevel, withEnv.imds.port], ['127.0.0.2', 'error', 2222]);

    const flags = ['start', '--print-config', '--config', path, '--port', '3333', '--host', '127.0.0.3'];
    const withFlags = parseYaml((await run(flags, env)).stdout);
    assert.deepEqual([withFlags.host, withFlags.logLevel, withFlags.imds.port], ['127.0.0.3', 'error', 3333]);
  });

  test('prints a config that validates and prints the same again', async () => {
    const first = await run(['start', '--print-config']);
    const path = configFile('printed.yaml', first.stdout);
    const validated = await run(['config', 'validate', path]);
    assert.equal(validated.code, 0, validated.stderr);
    const again = await run(['start', '--print-config', '--config', path]);
    assert.equal(again.stdout, first.stdout);
  });
});

describe('azimds config', { concurrency: true }, () => {
  test('validate accepts a good file: exit 0 and "valid"', async () => {
    const path = configFile(
      'good.yaml',
      'imds:\n  port: 8080\nvm:\n  compute:\n    name: ok\n    tags: { a: 1 }\n',
    );
    const r = await run(['config', 'validate', path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid/);
  });

  test("validate accepts the Go simulator's config.json unchanged", async () => {
    const r = await run(['config', 'validate', GO_CONFIG]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('validate rejects a bad file: exit 2 and one line per problem, each naming its field', async () => {
    const path = configFile('two-problems.yaml', 'logLevel: loud\nimds:\n  port: -5\n');
    const r = await run(['config', 'validate', path]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.ok(lines.some((l) => l.includes('logLevel: ')));
    assert.ok(lines.some((l) => l.includes('imds.port: ')));
  });

  test('validate rejects YAML that does not parse: exit 2, one line', async () => {
    const r = await run(['config', 'validate', configFile('broken.yaml', 'imds:\n  port: [\n')]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /not valid YAML/);
  });

  test('validate without a file exits 2', async () => {
    assert.equal((await run(['config', 'validate'])).code, 2);
  });

  test('schema prints the JSON Schema of the config file', async () => {
    const r = await run(['config', 'schema']);
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout) as {
      $schema: string;
      type: string;
      properties: Record<string, unknown>;
    };
    assert.match(schema.$schema, /json-schema\.org/);
    assert.equal(schema.type, 'object');
    for (const key of ['host', 'logLevel', 'imds', 'vm']) assert.ok(key in schema.properties, key);
  });
});
