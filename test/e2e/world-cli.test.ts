/**
 * `azimds world` against a real `azimds start` (dist/, built by `npm test`; `npm run build` first when
 * running this file alone): show the world, assign and remove a role, add and remove a resource, and
 * ARM follows each change: reached as https://management.azure.com through the banner's proxy,
 * trusting the CA that `azimds ca --pem` prints (`start --port 0` has no direct ARM endpoint).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCliBuilt, cliEnv, type Finished, runCli, startCli } from '../support/cli.js';
import { httpsViaProxy } from '../support/proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'azimds-world-cli-'));

let child: ChildProcess;
let exited: Promise<Finished>;
let urls: { imds: string; control: string; proxy: string };
let ca: string;

before(async () => {
  assertCliBuilt();
  const started = await startCli(
    ['start', '--port', '0', '--log-level', 'warn'],
    cliEnv(join(dir, 'data'), { AZIMDS_CONFIG: '' }),
    (out) => {
      const imds = /AZURE_POD_IDENTITY_AUTHORITY_HOST=(\S+)/.exec(out)?.[1];
      const control = /Control API\s+(\S+)/.exec(out)?.[1];
      const proxy = /Proxy\s+(http:\/\/\S+)/.exec(out)?.[1];
      return imds && control && proxy ? { imds, control, proxy } : undefined;
    },
  );
  child = started.child;
  exited = started.exited;
  urls = started.value;
  const printed = await runCli(['ca', '--pem'], cliEnv(join(dir, 'data')));
  assert.equal(printed.code, 0, printed.stderr);
  ca = printed.stdout;
});
after(async () => {
  child?.kill('SIGTERM');
  await exited;
  rmSync(dir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await runCli([...args, '--url', urls.control], cliEnv(join(dir, 'data')));
  assert.equal(r.code, 0, `azimds ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

async function armStatus(path: string): Promise<number> {
  const res = await fetch(
    `${urls.imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`,
    { headers: { Metadata: 'true' } },
  );
  const { access_token: token } = (await res.json()) as { access_token: string };
  return (
    await httpsViaProxy(urls.proxy, 'management.azure.com', path, ca, { authorization: `Bearer ${token}` })
  ).status;
}

describe('azimds world', () => {
  test('shows the world, changes roles and resources live, and ARM follows', async () => {
    const world = JSON.parse(await ok(['world'])) as {
      subscriptions: Array<{ subscriptionId: string }>;
      roleAssignments: Array<{ name: string; roleDefinitionName: string }>;
    };
    const sub = world.subscriptions[0]?.subscriptionId as string;
    // By default the VM holds Reader and Key Vault Secrets User, the zero-config app Reader.
    assert.equal(world.roleAssignments.length, 3, JSON.stringify(world.roleAssignments));
    const groups = `/subscriptions/${sub}/resourcegroups?api-version=2021-04-01`;
    const site = `/subscriptions/${sub}/resourcegroups/rg-azimds/providers/Microsoft.Web/sites/app1?api-version=2023-01-01`;

    const assigned = JSON.parse(
      await ok([
        'world',
        'assign',
        '--identity',
        'azimds-vm-01',
        '--role',
        'Reader',
        '--scope',
        `/subscriptions/${sub}`,
      ]),
    ) as { name: string };
    assert.equal(await armStatus(groups), 200);

    const added = JSON.parse(
      await ok(['world', 'add-resource', '-g', 'rg-azimds', '--type', 'Microsoft.Web/sites', '-n', 'app1']),
    ) as { id: string };
    assert.equal(await armStatus(site), 200);
    const resources = JSON.parse(
      await ok(['world', 'resources', '--type', 'Microsoft.Web/sites']),
    ) as unknown[];
    assert.equal(resources.length, 1);

    assert.match(await ok(['world', 'remove-resource', added.id]), /deleted/);
    assert.equal(await armStatus(site), 404);
    assert.match(await ok(['world', 'unassign', assigned.name]), /deleted role assignment/);
    const roles = JSON.parse(await ok(['world', 'roles'])) as unknown[];
    assert.equal(roles.length, 3);
  });
});
