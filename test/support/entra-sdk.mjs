// Gets one app-only token from Microsoft Entra (azimds) with a real, unmodified client, in a process of
// its own: the credentials read AZURE_* variables and Node reads NODE_EXTRA_CA_CERTS (azimds's TLS
// certificate) and HTTPS_PROXY at start-up. Prints one JSON line.
//
//   node entra-sdk.mjs '{"client":"secret","scope":"https://management.azure.com/.default"}'
//
// `options` is passed to the credential / msal-node as is (e.g. {"disableInstanceDiscovery":true} for
// a direct endpoint without the proxy). Clients: secret, certificate, workload, environment, default
// (@azure/identity), msal-secret, msal-certificate (@azure/msal-node ConfidentialClientApplication).
import { readFileSync } from 'node:fs';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  EnvironmentCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { ConfidentialClientApplication } from '@azure/msal-node';

const request = JSON.parse(process.argv[2] ?? '{}');
const options = request.options ?? {};
const env = process.env;

function print(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function identityToken(credential) {
  const token = await credential.getToken(request.scope);
  return { ok: true, token: token.token, expiresOnTimestamp: token.expiresOnTimestamp };
}

try {
  const common = {
    ...(env.AZURE_AUTHORITY_HOST ? { authorityHost: env.AZURE_AUTHORITY_HOST } : {}),
    ...options,
  };
  switch (request.client) {
    case 'secret':
      print(
        await identityToken(
          new ClientSecretCredential(
            env.AZURE_TENANT_ID,
            env.AZURE_CLIENT_ID,
            env.AZURE_CLIENT_SECRET,
            common,
          ),
        ),
      );
      break;
    case 'certificate':
      print(
        await identityToken(
          new ClientCertificateCredential(
            env.AZURE_TENANT_ID,
            env.AZURE_CLIENT_ID,
            { certificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH },
            common,
          ),
        ),
      );
      break;
    case 'workload':
      print(await identityToken(new WorkloadIdentityCredential(options)));
      break;
    case 'environment':
      print(await identityToken(new EnvironmentCredential(options)));
      break;
    case 'default':
      print(await identityToken(new DefaultAzureCredential(options)));
      break;
    case 'msal-secret':
    case 'msal-certificate': {
      const authority = `${(env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com/').replace(/\/?$/, '/')}${env.AZURE_TENANT_ID}`;
      const clientCertificate =
        request.client === 'msal-certificate'
          ? (() => {
              const pem = readFileSync(env.AZURE_CLIENT_CERTIFICATE_PATH, 'utf8');
              return {
                ...(request.thumbprint
                  ? { thumbprint: request.thumbprint }
                  : { thumbprintSha256: request.thumbprintSha256 }),
                privateKey: pem.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/)[0],
              };
            })()
          : undefined;
      const app = new ConfidentialClientApplication({
        auth: {
          clientId: env.AZURE_CLIENT_ID,
          authority,
          ...(clientCertificate ? { clientCertificate } : { clientSecret: env.AZURE_CLIENT_SECRET }),
          ...options,
        },
      });
      const result = await app.acquireTokenByClientCredential({ scopes: [request.scope] });
      print({ ok: true, token: result.accessToken, expiresOn: result.expiresOn });
      break;
    }
    default:
      throw new Error(`unknown client ${request.client}`);
  }
} catch (error) {
  print({
    ok: false,
    name: error?.name,
    errorCode: error?.errorCode,
    message: String(error?.message ?? error),
  });
}
