/**
 * The real ARM SDKs (@azure/arm-resources, -compute, -network, -authorization, -msi), unchanged but for
 * their documented client options, against azimds's ARM with a managed-identity token from azimds
 * (ManagedIdentityCredential through AZURE_POD_IDENTITY_AUTHORITY_HOST).
 *
 * Until the proxy and its local CA are merged, ARM's direct endpoint is plain HTTP, and the ARM SDKs'
 * bearer policy refuses http outright (`allowInsecureConnection` does not lift it in
 * @azure/core-rest-pipeline's bearerTokenAuthenticationPolicy). So this file serves the ARM surface on
 * a TLS listener of its own, through the TLS seam (`serverOptions.https`), with the self-signed
 * certificate azimds already makes for Service Fabric, trusted through the documented `tlsOptions.ca`;
 * `endpoint` points the SDKs at it and `credentialScopes` keeps the audience https://management.azure.com.
 * Through the proxy (issue 10) the same code runs with no option at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ComputeManagementClient } from '@azure/arm-compute';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { NetworkManagementClient } from '@azure/arm-network';
import { ResourceManagementClient } from '@azure/arm-resources';
import { ManagedIdentityCredential } from '@azure/identity';
import { pino } from 'pino';
import { armListenerSpec } from '../../src/protocols/arm/listener.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { type RunningListener, startListener } from '../../src/server/listener.js';
import { isolateSdkEnvironment } from '../support/sdk-env.js';

const SUB = '3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

let azimds: EmulatorHandle;
let restoreEnv: () => void;
let tls: RunningListener;
let options: { endpoint: string; credentialScopes: string[]; tlsOptions: { ca: string } };
const credential = (clientId?: string) => new ManagedIdentityCredential(clientId ? { clientId } : {});

before(async () => {
  azimds = await startEmulator({
    vm: { compute: { name: 'vm-sdk', subscriptionId: SUB, resourceGroupName: 'rg-sdk' } },
    identity: { userAssigned: [{ name: 'id-owner' }] },
    world: {
      roleAssignments: [
        { identity: 'vm-sdk', role: 'Reader' },
        { identity: 'id-owner', role: 'Owner', scope: `/subscriptions/${SUB}` },
      ],
    },
  });
  restoreEnv = isolateSdkEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: azimds.urls.imds });
  const certificate = azimds.state.platforms.certificate();
  const spec = armListenerSpec(azimds.state);
  tls = await startListener(
    {
      ...spec,
      port: 0,
      serverOptions: { ...spec.serverOptions, https: { key: certificate.keyPem, cert: certificate.certPem } },
    },
    pino({ level: 'silent' }),
  );
  options = {
    endpoint: tls.url,
    credentialScopes: ['https://management.azure.com/.default'],
    tlsOptions: { ca: certificate.certPem },
  };
});
after(async () => {
  restoreEnv();
  await tls.app.close();
  await azimds.close();
});

const ownerId = () => azimds.state.identities.all().find((i) => i.name === 'id-owner')?.clientId as string;

describe('ARM SDKs against azimds', () => {
  test('arm-resources: list groups and the resources of one (Reader); createOrUpdate refused for a Reader', async () => {
    const client = new ResourceManagementClient(credential(), SUB, options);
    const groups = [];
    for await (const g of client.resourceGroups.list()) groups.push(g.name);
    assert.deepEqual(groups, ['rg-sdk']);
    const types = new Set<string>();
    for await (const r of client.resources.listByResourceGroup('rg-sdk')) types.add(r.type as string);
    assert.ok(types.has('Microsoft.Compute/virtualMachines'));
    await assert.rejects(
      client.resourceGroups.createOrUpdate('rg-new', { location: 'westeurope' }),
      (error: { statusCode?: number; code?: string }) => {
        assert.equal(error.statusCode, 403);
        assert.equal(error.code, 'AuthorizationFailed');
        return true;
      },
    );
  });

  test('arm-resources: an Owner creates, reads and deletes a group (the delete polls its Location)', async () => {
    const client = new ResourceManagementClient(credential(ownerId()), SUB, options);
    const created = await client.resourceGroups.createOrUpdate('rg-new', {
      location: 'westeurope',
      tags: { a: 'b' },
    });
    assert.equal(created.name, 'rg-new');
    assert.equal((await client.resourceGroups.checkExistence('rg-new')).body, true);
    await client.resourceGroups.beginDeleteAndWait('rg-new', { updateIntervalInMs: 10 });
    assert.equal((await client.resourceGroups.checkExistence('rg-new')).body, false);
  });

  test("arm-compute and arm-network: the VM list of my group, each NIC's private IP (seed 000)", async () => {
    const compute = new ComputeManagementClient(credential(), SUB, options);
    const network = new NetworkManagementClient(credential(), SUB, options);
    const vms = [];
    for await (const vm of compute.virtualMachines.list('rg-sdk')) vms.push(vm);
    assert.equal(vms.length, 1);
    const [vm] = vms;
    assert.equal(vm?.identity?.principalId, azimds.state.identities.current.systemAssigned?.principalId);
    const nicId = vm?.networkProfile?.networkInterfaces?.[0]?.id as string;
    const nic = await network.networkInterfaces.get('rg-sdk', nicId.split('/').pop() as string);
    assert.equal(nic.ipConfigurations?.[0]?.privateIPAddress, '10.0.0.4');
    const got = await compute.virtualMachines.get('rg-sdk', 'vm-sdk');
    assert.equal(got.vmId, azimds.state.machine.compute('vmId'));
  });

  test('arm-authorization: an Owner assigns a role, a Reader may not', async () => {
    const auth = new AuthorizationManagementClient(credential(ownerId()), SUB, options);
    const scope = `/subscriptions/${SUB}/resourceGroups/rg-sdk`;
    const reader = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`;
    const principalId = azimds.state.identities.current.systemAssigned?.principalId as string;
    const created = await auth.roleAssignments.create(scope, crypto.randomUUID(), {
      roleDefinitionId: reader,
      principalId,
    });
    assert.equal(created.principalId, principalId);
    const listed = [];
    for await (const a of auth.roleAssignments.listForScope(scope, {
      filter: `principalId eq '${principalId}'`,
    }))
      listed.push(a);
    assert.equal(listed.length, 2);
    const asVm = new AuthorizationManagementClient(credential(), SUB, options);
    await assert.rejects(
      asVm.roleAssignments.create(`/subscriptions/${SUB}`, crypto.randomUUID(), {
        roleDefinitionId: reader,
        principalId,
      }),
      (error: { statusCode?: number }) => error.statusCode === 403,
    );
  });

  test('arm-msi: the user-assigned identity has the ids its tokens carry', async () => {
    const msi = new ManagedServiceIdentityClient(credential(), SUB, options);
    const identity = await msi.userAssignedIdentities.get('rg-sdk', 'id-owner');
    assert.equal(identity.clientId, ownerId());
    assert.equal(identity.tenantId, azimds.state.identities.tenantId);
  });
});
