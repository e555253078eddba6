import { spawn } from 'node:child_process';
import type { Clock } from '../../clock.js';
import type { TokenFailure, TokenProvider, TokenRequest, TokenResult, UpstreamReason } from '../provider.js';
import { upstreamAccessToken } from './access-token.js';
import type { SecretRegistry } from './secrets.js';

export interface AzureCliOptions {
  /** The configured source name, for messages. */
  name: string;
  /** The az executable: a name looked up on PATH, or a path. */
  command: string;
  /** `--tenant`, when set. */
  tenantId?: string;
  timeoutMs: number;
  clock: Clock;
  secrets: SecretRegistry;
  env?: NodeJS.ProcessEnv;
}

/** Largest output read from az; its JSON is a few kilobytes. */
const MAX_OUTPUT_BYTES = 1_000_000;

/**
 * Resources passed to az: the characters of URIs and GUIDs, starting with a letter or digit. The same
 * rule the Azure SDKs' AzureCliCredential applies: nothing a shell (Windows runs az.cmd through one) or
 * az's argument parser (a value starting with `-`) could read as more than a value.
 */
const SAFE_RESOURCE = /^[0-9A-Za-z][0-9A-Za-z_.:/?&=%+-]*$/;
const SAFE_TENANT = /^[0-9A-Za-z][0-9A-Za-z.-]*$/;

/**
 * The developer's own identity: `az account get-access-token --resource <resource> --output json`, run
 * with a timeout (then killed). az answers from its own cache or refreshes with Entra; azimds caches
 * the result in front like any other source. Tokens are the signed-in user's (or az's service
 * principal's), whatever identity the client asked for.
 */
export class AzureCliSource implements TokenProvider {
  readonly name = 'azure-cli';
  readonly #options: AzureCliOptions;

  constructor(options: AzureCliOptions) {
    if (options.tenantId !== undefined && !SAFE_TENANT.test(options.tenantId)) {
      throw new Error(`tenant "${options.tenantId}" is not a tenant id or domain`);
    }
    this.#options = options;
  }

  async getToken({ identity, resource }: TokenRequest): Promise<TokenResult> {
    const { name, tenantId, clock, secrets } = this.#options;
    const label = `az CLI (source ${name})`;
    if (!SAFE_RESOURCE.test(resource)) {
      // Not a resource Entra could know either: the client's mistake (400), not an outage.
      return {
        ok: false,
        failure: {
          code: 'invalid-resource',
          reason: 'rejected',
          description: `${label}: the resource ${JSON.stringify(resource)} has characters azimds does not pass to az`,
        },
      };
    }
    const args = ['account', 'get-access-token', '--resource', resource, '--output', 'json'];
    if (tenantId) args.push('--tenant', tenantId);
    const run = await this.#run(args);
    if (run.kind === 'failed') {
      // Entra's "resource principal not found", relayed by az: the client's resource is wrong.
      const unknown = /AADSTS500011\b.*/.exec(run.message)?.[0];
      if (unknown)
        return { ok: false, failure: { code: 'invalid-resource', description: unknown, reason: 'rejected' } };
      return fail(run.reason, secrets.scrub(`${label}: ${run.message}`));
    }
    let parsed: { accessToken?: unknown; expires_on?: unknown; expiresOn?: unknown };
    try {
      parsed = JSON.parse(run.stdout) as typeof parsed;
    } catch {
      return fail('unavailable', `${label}: az printed something that is not JSON`);
    }
    if (typeof parsed.accessToken !== 'string' || parsed.accessToken === '') {
      return fail('unavailable', `${label}: az's answer has no accessToken`);
    }
    const expiresOn = azExpiry(parsed);
    return {
      ok: true,
      token: upstreamAccessToken({
        accessToken: parsed.accessToken,
        resource,
        identity,
        nowSeconds: Math.floor(clock.now() / 1000),
        ...(expiresOn !== undefined ? { expiresOn } : {}),
        fallbackLifetimeSeconds: 300,
      }),
    };
  }

  #run(
    args: string[],
  ): Promise<{ kind: 'ok'; stdout: string } | { kind: 'failed'; reason: UpstreamReason; message: string }> {
    const { command, timeoutMs } = this.#options;
    const env = {
      ...(this.#options.env ?? process.env),
      // Plain, error-only output: no colours, no upgrade notices mixed into what azimds reads.
      AZURE_CORE_NO_COLOR: 'true',
      AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
      AZURE_CORE_COLLECT_TELEMETRY: 'false',
    };
    return new Promise((resolve) => {
      let settled = false;
      const done = (
        result: { kind: 'ok'; stdout: string } | { kind: 'failed'; reason: UpstreamReason; message: string },
      ) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      // Windows installs az as az.cmd, which only a shell runs; every argument was checked above.
      const windows = process.platform === 'win32';
      const child = spawn(windows ? `${command}.cmd` : command, args, {
        env,
        shell: windows,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done({
          kind: 'failed',
          reason: 'timeout',
          message: `az did not answer within the timeout of ${timeoutMs} ms`,
        });
      }, timeoutMs);
      child.on('error', (error: NodeJS.ErrnoException) => {
        done({
          kind: 'failed',
          reason: 'unavailable',
          message:
            error.code === 'ENOENT'
              ? `${command} not found: install the Azure CLI or set the source's command`
              : `cannot run ${command}: ${error.message}`,
        });
      });
      child.on('close', (code, signal) => {
        if (code === 0) {
          done({ kind: 'ok', stdout: Buffer.concat(out).toString('utf8') });
          return;
        }
        const stderr = Buffer.concat(err).toString('utf8');
        const loginNeeded =
          /az login|not logged in|AADSTS50076|AADSTS70043|AADSTS700082|interaction_required/i.test(stderr);
        done({
          kind: 'failed',
          reason: loginNeeded ? 'rejected' : 'unavailable',
          message: `az exited with ${code ?? signal}: ${firstLines(stderr) || 'no error output'}`,
        });
      });
    });
  }
}

/**
 * Expiry of az's answer, epoch seconds: `expires_on` (newer az versions, epoch seconds), else
 * `expiresOn` ("2024-06-01 12:34:56.000000", the local time of the machine az runs on).
 */
export function azExpiry(answer: { expires_on?: unknown; expiresOn?: unknown }): number | undefined {
  const epoch = Number(answer.expires_on);
  if (answer.expires_on !== undefined && answer.expires_on !== '' && Number.isFinite(epoch)) {
    return Math.floor(epoch);
  }
  if (typeof answer.expiresOn !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(answer.expiresOn.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const local = new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isFinite(local) ? Math.floor(local / 1000) : undefined;
}

/** The first meaningful lines of az's error output, on one line, bounded. */
function firstLines(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 3)
    .join(' ');
  return lines.length > 400 ? `${lines.slice(0, 397)}...` : lines;
}

function fail(reason: UpstreamReason, description: string): TokenResult {
  const failure: TokenFailure = { code: 'upstream', description, reason };
  return { ok: false, failure };
}
