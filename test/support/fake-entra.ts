/**
 * A fake Entra ID on loopback for token-source tests (no internet): HTTPS with a certificate from a
 * local CA of its own (src/core/tls/local-ca.ts), OIDC discovery
 * (`/<tenant>/v2.0/.well-known/openid-configuration`), instance discovery, and the v2 token endpoint (`/<tenant>/oauth2/v2.0/token`) with the client-credentials grant.
 * Client secrets are compared; client assertions (certificate credentials) are verified as Entra does:
 * the `x5t#S256` (or `x5t`) thumbprint names a registered certificate, the signature verifies with its
 * key, `aud` is the token endpoint and `iss` = `sub` = the client id. Answers are shaped like Entra's,
 * errors included (AADSTS codes, trace and correlation ids), and a test can replace any answer.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, decodeProtectedHeader, SignJWT } from 'jose';
import forge from 'node-forge';
import { LocalCa } from '../../src/core/tls/local-ca.js';
import { createCertificate, forgePrivateKey } from '../../src/core/x509.js';

/** One token request as the fake saw it. */
export interface TokenCall {
  tenant: string;
  clientId: string;
  scope: string;
  /** The resource the scope asks for (`<resource>/.default`). */
  resource: string;
  credential: 'secret' | 'certificate' | 'none';
}

/** What the fake answers: a status with a JSON body (or text), or nothing at all (`hang`). */
export type Answer = { status: number; body: unknown; contentType?: string } | 'hang';

export interface FakeEntra {
  /** `https://127.0.0.1:<port>`: the authority host to configure. */
  readonly url: string;
  /** PEM of the CA that issued the server certificate, and a file holding it. */
  readonly caPem: string;
  readonly caFile: string;
  /** Token requests received, in order (including refused ones). */
  readonly tokenCalls: TokenCall[];
  /** Discovery requests received. */
  readonly discoveryCalls: string[];
  /** Registers a client that authenticates with `secret`. */
  addSecretClient(clientId: string, secret: string): void;
  /** Registers a client that authenticates with the certificate `certificatePem`. */
  addCertificateClient(clientId: string, certificatePem: string): void;
  /**
   * Replaces the answer to token requests while set: return an Answer, or undefined for the normal one.
   * `delayMs` holds every token answer back (to let concurrent requests pile up).
   */
  override: ((call: TokenCall) => Answer | undefined) | undefined;
  delayMs: number;
  /** The public key that signs issued tokens (tests verify tokens with it). */
  readonly signingKey: KeyObject;
  close(): Promise<void>;
}

/** A self-signed certificate and its key, PEM, for a service principal's certificate credential. */
export function clientCertificate(commonName: string): { certificatePem: string; privateKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = createCertificate({
    publicKey,
    signingKey: forgePrivateKey(privateKey),
    serialNumber: `01${randomUUID().replaceAll('-', '')}`,
    notBefore: Date.now() - 3_600_000,
    notAfter: Date.now() + 86_400_000,
    subject: [{ name: 'commonName', value: commonName }],
    extensions: [],
  });
  return {
    certificatePem: new X509Certificate(forge.pki.certificateToPem(cert)).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** An Entra-shaped OAuth error body. */
export function entraError(error: string, code: number, text: string): Record<string, unknown> {
  const trace = randomUUID();
  const correlation = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace('Z', 'Z');
  return {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: trace,
    correlation_id: correlation,
  };
}

/** Resources the fake's tenant "does not have" (AADSTS500011): any host ending in `.invalid`. */
function knownResource(resource: string): boolean {
  try {
    return !new URL(resource).hostname.endsWith('.invalid');
  } catch {
    return /^[0-9a-f-]{36}$/i.test(resource);
  }
}

export async function startFakeEntra(): Promise<FakeEntra> {
  const dir = mkdtempSync(join(tmpdir(), 'azimds-fake-entra-'));
  // TLS from a local CA of its own (azimds's one mechanism), in a throw-away directory.
  const ca = new LocalCa({ dataDir: dir });
  const caFile = ca.certFile();
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const secrets = new Map<string, string>();
  const certificates = new Map<string, X509Certificate>();
  const sockets = new Set<Socket>();
  const tokenCalls: TokenCall[] = [];
  const discoveryCalls: string[] = [];
  let base = '';

  const send = (res: ServerResponse, answer: Exclude<Answer, 'hang'>) => {
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': answer.contentType ?? 'application/json; charset=utf-8',
      'cache-control': 'no-store, no-cache',
    });
    res.end(text);
  };

  const issue = async (call: TokenCall): Promise<Answer> => {
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({
      aud: call.resource,
      iss: `https://sts.windows.net/${call.tenant}/`,
      appid: call.clientId,
      appidacr: call.credential === 'certificate' ? '2' : '1',
      idtyp: 'app',
      oid: randomUUID(),
      sub: randomUUID(),
      tid: call.tenant,
      ver: '1.0',
      uti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'fake-entra' })
      .setIssuedAt(now - 300)
      .setNotBefore(now - 300)
      .setExpirationTime(now + 3599)
      .sign(signing.privateKey);
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken },
    };
  };

  /** Entra's checks of a client assertion; a reason when it fails. */
  const assertionProblem = async (
    assertion: string,
    clientId: string,
    endpoint: string,
  ): Promise<string | undefined> => {
    const registered = certificates.get(clientId.toLowerCase());
    if (!registered) return 'no certificate is registered for the client';
    const header = decodeProtectedHeader(assertion);
    const sha256 = createHash('sha256').update(registered.raw).digest('base64url');
    const sha1 = createHash('sha1').update(registered.raw).digest('base64url');
    if (header['x5t#S256'] !== sha256 && header.x5t !== sha1)
      return 'the thumbprint (x5t#S256/x5t) names no registered certificate';
    try {
      const { payload } = await compactVerify(assertion, registered.publicKey, {
        algorithms: ['PS256', 'RS256'],
      });
      const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
      if (claims.aud !== endpoint) return `aud ${String(claims.aud)} is not the token endpoint`;
      if (claims.iss !== clientId || claims.sub !== clientId) return 'iss and sub must be the client id';
      if (typeof claims.exp !== 'number' || claims.exp < Date.now() / 1000)
        return 'the assertion has expired';
      return undefined;
    } catch (error) {
      return `signature validation failed: ${(error as Error).message}`;
    }
  };

  const token = async (req: IncomingMessage, res: ServerResponse, tenant: string, body: string) => {
    const form = new URLSearchParams(body);
    const clientId = form.get('client_id') ?? '';
    const scope = form.get('scope') ?? '';
    const assertion = form.get('client_assertion');
    const secret = form.get('client_secret');
    const call: TokenCall = {
      tenant,
      clientId,
      scope,
      resource: scope.replace(/\/\.default$/, ''),
      credential: assertion ? 'certificate' : secret ? 'secret' : 'none',
    };
    tokenCalls.push(call);
    if (fake.delayMs > 0) await new Promise((r) => setTimeout(r, fake.delayMs));
    const overridden = fake.override?.(call);
    if (overridden === 'hang') return; // never answers; close() ends the socket
    if (overridden) return send(res, overridden);
    if (form.get('grant_type') !== 'client_credentials') {
      return send(res, {
        status: 400,
        body: entraError('unsupported_grant_type', 70003, 'The app requested an unsupported grant type.'),
      });
    }
    if (!secrets.has(clientId.toLowerCase()) && !certificates.has(clientId.toLowerCase())) {
      return send(res, {
        status: 400,
        body: entraError(
          'unauthorized_client',
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
        ),
      });
    }
    if (call.credential === 'secret' && secrets.get(clientId.toLowerCase()) !== secret) {
      return send(res, {
        status: 401,
        body: entraError(
          'invalid_client',
          7000215,
          'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
        ),
      });
    }
    if (call.credential === 'certificate') {
      const endpoint = `${base}${req.url?.split('?')[0]}`;
      const problem = await assertionProblem(assertion as string, clientId, endpoint);
      if (problem) {
        return send(res, {
          status: 401,
          body: entraError(
            'invalid_client',
            700027,
            `Client assertion failed signature validation: ${problem}.`,
          ),
        });
      }
    }
    if (call.credential === 'none') {
      return send(res, {
        status: 401,
        body: entraError(
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
      });
    }
    if (!scope.endsWith('/.default')) {
      return send(res, {
        status: 400,
        body: entraError('invalid_scope', 1002012, `The provided value for scope ${scope} is not valid.`),
      });
    }
    if (!knownResource(call.resource)) {
      return send(res, {
        status: 400,
        body: entraError(
          'invalid_resource',
          500011,
          `The resource principal named ${call.resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
        ),
      });
    }
    return send(res, (await issue(call)) as Exclude<Answer, 'hang'>);
  };

  const server: Server = createServer(ca.serverOptions('127.0.0.1'), (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const body = Buffer.concat(chunks).toString('utf8');
      const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
      const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
      if (req.method === 'GET' && discovery) {
        discoveryCalls.push(url.pathname);
        const tenant = discovery[1] as string;
        return send(res, {
          status: 200,
          body: {
            token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
            token_endpoint_auth_methods_supported: [
              'client_secret_post',
              'private_key_jwt',
              'client_secret_basic',
            ],
            jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
            response_modes_supported: ['query', 'fragment', 'form_post'],
            subject_types_supported: ['pairwise'],
            id_token_signing_alg_values_supported: ['RS256'],
            response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
            scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
            issuer: `${base}/${tenant}/v2.0`,
            authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
            end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
            tenant_region_scope: 'EU',
          },
        });
      }
      if (req.method === 'GET' && url.pathname === '/common/discovery/instance') {
        discoveryCalls.push(url.pathname);
        const host = new URL(base).host;
        return send(res, {
          status: 200,
          body: {
            tenant_discovery_endpoint: `${base}/common/v2.0/.well-known/openid-configuration`,
            'api-version': '1.1',
            metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
          },
        });
      }
      if (req.method === 'POST' && tokenPath) {
        void token(req, res, tokenPath[1] as string, body);
        return;
      }
      send(res, { status: 404, body: entraError('invalid_request', 90002, 'Not a path of this fake.') });
    });
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  base = `https://127.0.0.1:${address.port}`;

  const fake: FakeEntra = {
    url: base,
    caPem: ca.certPem(),
    caFile,
    tokenCalls,
    discoveryCalls,
    override: undefined,
    delayMs: 0,
    signingKey: signing.publicKey,
    addSecretClient(clientId, secret) {
      secrets.set(clientId.toLowerCase(), secret);
    },
    addCertificateClient(clientId, certificatePem) {
      certificates.set(clientId.toLowerCase(), new X509Certificate(certificatePem));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fake;
}
