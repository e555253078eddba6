// Gets one managed-identity token with a real Azure SDK, in a process of its own, from the
// environment variables alone (the SDKs pick the platform from them when a credential is built, and
// msal-node keeps the chosen source for the life of the process). Prints one JSON line.
//
//   node sdk-token.mjs '{"sdk":"identity","scope":"https://vault.azure.net/.default","id":{"clientId":"..."}}'
//   node sdk-token.mjs '{"sdk":"msal","resource":"https://vault.azure.net","id":{"objectId":"..."}}'
import { ManagedIdentityCredential } from '@azure/identity';
import { ManagedIdentityApplication } from '@azure/msal-node';

const request = JSON.parse(process.argv[2] ?? '{}');
const id = request.id ?? {};
/** The source msal-node chose, reported with failures too. */
let source;

function print(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

try {
  if (request.sdk === 'identity') {
    const credential = new ManagedIdentityCredential({
      ...id,
      ...(request.maxRetries === undefined ? {} : { retryOptions: { maxRetries: request.maxRetries } }),
    });
    const token = await credential.getToken(request.scope);
    print({ ok: true, token: token.token, expiresOnTimestamp: token.expiresOnTimestamp });
  } else {
    const app = new ManagedIdentityApplication({
      managedIdentityIdParams: {
        userAssignedClientId: id.clientId,
        userAssignedObjectId: id.objectId,
        userAssignedResourceId: id.resourceId,
      },
      system: { disableInternalRetries: request.maxRetries === 0 },
    });
    source = app.getManagedIdentitySource();
    const result = await app.acquireToken({ resource: request.resource });
    print({ ok: true, source, token: result.accessToken, expiresOn: result.expiresOn });
  }
} catch (error) {
  print({
    ok: false,
    source,
    name: error?.name,
    errorCode: error?.errorCode,
    message: String(error?.message ?? error),
  });
}
