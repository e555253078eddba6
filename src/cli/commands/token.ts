import { type Command, Option } from 'commander';
import type { Config } from '../../config/schema.js';
import { EmulatorClock } from '../../core/clock.js';
import { IdentityDirectory } from '../../core/identities/directory.js';
import type { IdentitySelector } from '../../core/identities/identity.js';
import { Machine } from '../../core/machines/machine.js';
import { TokenService } from '../../core/tokens/service.js';
import { AzimdsError } from '../../errors.js';
import { imdsTokenBody } from '../../protocols/identity-imds/token-response.js';
import { vmImdsUrl } from '../control-client.js';
import { registerFederatedTokenCommand } from '../entra.js';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../options.js';
import { urlsFromConfig } from '../sdk-environment.js';

interface TokenFlags extends ConfigFlags {
  resource: string;
  clientId?: string;
  objectId?: string;
  resourceId?: string;
  url?: string;
  offline?: boolean;
  fresh?: boolean;
  json?: boolean;
  vm?: string;
}

/** How long to wait for a running emulator before deciding none is there. */
const TIMEOUT_MS = 5000;

/**
 * `azimds token --resource R`: a managed-identity token, as code on the VM would get it.
 *
 * By default it asks the emulator running at the address `azimds start` would use with the same
 * --config/--host/--port (or at --url). When nothing answers there (and no --url was given), or with
 * --offline, it mints the token itself with the same identities and the same signing keys (the key
 * file in dataDir), so the token verifies against a running emulator's JWKS all the same.
 */
export function registerTokenCommand(
  program: Command,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): void {
  const token = withConfigOptions(
    program
      .command('token')
      .description(
        'print a managed-identity access token for a resource (from the running emulator, or minted offline)',
      ),
  )
    // Checked in the action, not by commander: `token federated` takes no --resource.
    .option('-r, --resource <resource>', 'resource (audience), e.g. https://management.azure.com/ (required)')
    .addOption(
      new Option('--client-id <id>', 'user-assigned identity by client id').conflicts([
        'objectId',
        'resourceId',
      ]),
    )
    .addOption(
      new Option('--object-id <id>', 'user-assigned identity by object (principal) id').conflicts(
        'resourceId',
      ),
    )
    .option('--resource-id <id>', 'user-assigned identity by ARM resource id')
    .addOption(
      new Option(
        '--url <url>',
        'IMDS base URL of the emulator (default: from --config/--host/--port)',
      ).conflicts('offline'),
    )
    .option('--offline', 'mint locally with the configured keys, without asking a running emulator')
    .option('--fresh', 'a new token instead of the cached one (IMDS bypass_cache=true)')
    .option('--json', 'print the whole IMDS response body instead of the bare token')
    .addOption(
      new Option(
        '--vm <name>',
        "a token of that VM's identities (a fleet, docs/fleet.md): asked at the VM's own IMDS port of the running emulator",
      ).conflicts(['offline', 'url']),
    )
    .action(async (flags: TokenFlags) => {
      if (flags.resource === undefined)
        token.error("error: required option '-r, --resource <resource>' not specified");
      const config = configFromFlags(flags);
      let body: string | undefined;
      if (!flags.offline) {
        const base = flags.vm
          ? await vmImdsUrl(flags, flags.vm)
          : (flags.url?.replace(/\/+$/, '') ?? urlsFromConfig(config).imds);
        if (base) body = await fromEmulator(base, flags, flags.url === undefined && !flags.vm, err);
        else if (flags.url === undefined)
          err.write('azimds: IMDS is off in this configuration; minting offline\n');
      }
      body ??= await mintOffline(config, flags);
      out.write(
        flags.json ? `${body}\n` : `${(JSON.parse(body) as { access_token: string }).access_token}\n`,
      );
    });
  // `azimds token federated`: a workload-identity (projected service-account) token (docs/entra.md).
  registerFederatedTokenCommand(token, out, err);
}

/** IMDS query parameters for the flags. */
function tokenQuery(flags: TokenFlags): URLSearchParams {
  const query = new URLSearchParams({ 'api-version': '2018-02-01', resource: flags.resource });
  if (flags.clientId) query.set('client_id', flags.clientId);
  if (flags.objectId) query.set('object_id', flags.objectId);
  if (flags.resourceId) query.set('msi_res_id', flags.resourceId);
  if (flags.fresh) query.set('bypass_cache', 'true');
  return query;
}

/**
 * Asks a running emulator. Returns undefined when nothing answers and `fallback` allows minting
 * offline instead.
 */
async function fromEmulator(
  base: string,
  flags: TokenFlags,
  fallback: boolean,
  err: NodeJS.WritableStream,
): Promise<string | undefined> {
  let response: Response;
  try {
    response = await fetch(`${base}/metadata/identity/oauth2/token?${tokenQuery(flags)}`, {
      headers: { Metadata: 'true' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (cause) {
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    const why = inner?.code ?? inner?.message ?? (cause as Error).message;
    if (fallback) {
      err.write(
        `azimds: no emulator answers at ${base} (${why}); minting the token offline with the configured keys\n`,
      );
      return undefined;
    }
    throw new AzimdsError('NOT_RUNNING', `no emulator answers at ${base} (${why})`, { cause });
  }
  const text = await response.text();
  if (response.ok) return text;
  let reason = text;
  try {
    // IMDS errors are {error, error_description}; other services nest {error: {code, message}}.
    const body = JSON.parse(text) as { error?: string | { message?: string }; error_description?: string };
    if (typeof body.error === 'string') reason = `${body.error}: ${body.error_description ?? ''}`;
    else if (body.error?.message) reason = body.error.message;
  } catch {
    // Not JSON: report the text as it came.
  }
  throw new AzimdsError('INVALID_INPUT', `${base} answered ${response.status}: ${reason}`);
}

/** Mints with the configured identities and keys, as the emulator would, and renders IMDS's body. */
async function mintOffline(config: Config, flags: TokenFlags): Promise<string> {
  const clock = new EmulatorClock();
  const identities = new IdentityDirectory(config, new Machine(config.vm));
  const selectors: IdentitySelector[] = [];
  if (flags.clientId) selectors.push({ by: 'clientId', value: flags.clientId });
  if (flags.objectId) selectors.push({ by: 'principalId', value: flags.objectId });
  if (flags.resourceId) selectors.push({ by: 'resourceId', value: flags.resourceId });
  const selection = identities.select(selectors);
  if (!selection.ok) {
    throw new AzimdsError(
      'INVALID_INPUT',
      `no token: ${selection.error.replaceAll('-', ' ')} in this configuration`,
    );
  }
  const result = await new TokenService(config, clock).local.mint({
    identity: selection.identity,
    resource: flags.resource,
  });
  if (!result.ok) throw new AzimdsError('INVALID_INPUT', result.failure.description);
  return imdsTokenBody(result.token, Math.floor(clock.now() / 1000)).toString();
}
