/**
 * Azure Arc: unmodified @azure/identity and @azure/msal-node code gets tokens from azimds's HIMDS with
 * only IDENTITY_ENDPOINT and IMDS_ENDPOINT, through the challenge handshake: the SDK reads the secret
 * file named in `WWW-Authenticate`, which it accepts only in the real agent's directory
 * (/var/opt/azcmagent/tokens on Linux). Writing there needs root (or the one-time setup of
 * docs/platforms/arc.md), so this file runs as root (CI does) and skips otherwise.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { sdkAcceptedArcDir } from '../../src/core/platforms/arc-challenges.js';
import { failure, platformSdkSuite } from '../support/platform-sdk.js';

const agentDir = sdkAcceptedArcDir();
const skip =
  process.platform !== 'linux'
    ? 'the Arc SDK handshake is tested on Linux'
    : process.getuid?.() !== 0
      ? `needs root to write challenge files to ${agentDir} (the Azure SDKs accept no other directory)`
      : false;

describe('Azure Arc through the SDKs', { skip }, () => {
  const sdk = platformSdkSuite('arc', {
    identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-deploy' }] },
    platforms: { arc: { enabled: true } },
  });
  const legacy = platformSdkSuite('arc', {
    identity: { userAssigned: [{ name: 'id-app' }] },
    platforms: { arc: { enabled: true, userAssignedIdentities: false } },
  });
  const filesIn = () => readdirSync(agentDir as string).filter((f) => f.endsWith('.key'));

  test('@azure/identity gets a system-assigned token and leaves no secret file behind', async () => {
    const before = filesIn().length;
    await sdk.token(
      { sdk: 'identity', scope: 'https://management.azure.com/.default' },
      'https://management.azure.com',
      sdk.system,
    );
    assert.equal(filesIn().length, before, 'the redeemed secret file is deleted');
  });

  test('@azure/identity gets a user-assigned token by clientId, confirmed by the echoed client_id', async () => {
    const target = sdk.user(0);
    await sdk.token(
      { sdk: 'identity', scope: 'https://vault.azure.net/.default', id: { clientId: target.clientId } },
      'https://vault.azure.net',
      target,
    );
  });

  test('msal-node picks Azure Arc from the environment and gets a system-assigned token', async () => {
    const result = await sdk.run({ sdk: 'msal', resource: 'https://vault.azure.net' });
    assert.equal(result.ok && result.source, 'AzureArc');
    await sdk.verify(result, 'https://vault.azure.net', sdk.system);
  });

  test('msal-node gets a user-assigned token by object id (object_id echoed)', async () => {
    const target = sdk.user(1);
    await sdk.token(
      { sdk: 'msal', resource: 'https://storage.azure.com', id: { objectId: target.principalId } },
      'https://storage.azure.com',
      target,
    );
  });

  test('msal-node gets a user-assigned token by resource id (msi_res_id echoed)', async () => {
    const target = sdk.user(1);
    await sdk.token(
      { sdk: 'msal', resource: 'https://graph.microsoft.com', id: { resourceId: target.resourceId } },
      'https://graph.microsoft.com',
      target,
    );
  });

  test('an identity the machine does not have fails before any challenge (404)', async () => {
    const before = filesIn().length;
    const result = await sdk.run({
      sdk: 'identity',
      scope: 'https://vault.azure.net/.default',
      id: { clientId: '00000000-0000-4000-8000-000000000000' },
      maxRetries: 0,
    });
    assert.match(failure(result).message, /Identity not found/);
    assert.equal(filesIn().length, before, 'no challenge file was written');
  });

  test('an older agent that ignores selectors makes msal-node refuse the unconfirmed token', async () => {
    const target = legacy.user(0);
    const result = await legacy.run({
      sdk: 'msal',
      resource: 'https://vault.azure.net',
      id: { clientId: target.clientId },
    });
    assert.equal(failure(result).errorCode, 'user_assigned_managed_identity_not_confirmed');
  });
});
