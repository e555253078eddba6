import { type Command, Option } from 'commander';
import { AzimdsError } from '../errors.js';
import { controlAddress, controlUrl } from '../protocols/control/address.js';
import { CONTROL_HEADER } from '../protocols/control/guard.js';
import { type ConfigFlags, configFromFlags } from './options.js';

/**
 * How CLI commands that act on a running emulator (`events`, `faults`, `logs`, `clock`, `reset`, ...)
 * find it: the same `--config`/`--host`/`--port` as `azimds start` (the control API's address is
 * derived from the resolved config exactly as `start` derives it), or `--url` of the control API.
 */
export interface ControlFlags extends Omit<ConfigFlags, 'logLevel'> {
  url?: string;
  /** `--vm NAME`: the VM of a fleet the command acts on (`?vm=` on /vm, /events, /identities, /attestation). */
  vm?: string;
}

/** Adds `--config`, `--host`, `--port` (as given to `start`) and `--url` to a command. */
export function withControlOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-c, --config <file>', 'config file the emulator was started with').env('AZIMDS_CONFIG'),
    )
    .option('--host <address>', '--host the emulator was started with')
    .option(
      '-p, --port <port>',
      '--port (IMDS port) the emulator was started with; the control API is on port + 1',
    )
    .addOption(
      new Option('--url <url>', 'control API URL (e.g. http://127.0.0.1:8170), instead of the above').env(
        'AZIMDS_CONTROL_URL',
      ),
    )
    .option(
      '--vm <name>',
      'the VM of a fleet to act on (vm, events, identities, attestation; default: the first VM; docs/fleet.md)',
    );
}

/** The control API's base URL for these flags. */
export function controlUrlFromFlags(flags: ControlFlags): string {
  if (flags.url) return flags.url.replace(/\/+$/, '');
  const { url: _url, ...configFlags } = flags;
  const config = configFromFlags(configFlags);
  if (!config.control.enabled) {
    throw new AzimdsError(
      'NOT_RUNNING',
      'the control API is off in this configuration (control.enabled: false)',
    );
  }
  const { host, port } = controlAddress(config);
  if (port === 0) {
    throw new AzimdsError('NOT_RUNNING', 'the control API port is 0 (a random port) here: pass --url');
  }
  return controlUrl(host, port);
}

/** Time allowed for one control API call, on top of a long poll's own wait. */
const REQUEST_TIMEOUT_MS = 10_000;

/** A small JSON client of the control API (docs/control-api.md). */
export class ControlClient {
  readonly baseUrl: string;

  /** The VM of a fleet the client acts on (`--vm`), or undefined for the default VM. */
  readonly vm: string | undefined;

  constructor(baseUrl: string, vm?: string) {
    this.baseUrl = baseUrl;
    this.vm = vm;
  }

  /** The client for a command's flags. */
  static fromFlags(flags: ControlFlags): ControlClient {
    const { vm, ...rest } = flags;
    return new ControlClient(controlUrlFromFlags(rest), vm);
  }

  /** `path` with `?vm=` (or `&vm=`) when a VM was named and the path acts on one VM. */
  #withVm(path: string): string {
    if (this.vm === undefined || !/^\/(vm|events|identities|attestation)(\/|\?|$)/.test(path)) return path;
    return `${path}${path.includes('?') ? '&' : '?'}vm=${encodeURIComponent(this.vm)}`;
  }

  /**
   * Sends one request and returns the JSON body (`undefined` for 204).
   * @throws AzimdsError `NOT_RUNNING` when nothing answers at the URL (or something that is not
   * azimds does); `INVALID_INPUT` for a 400; `CONTROL_API` for other errors, with the API's message.
   */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: { waitMs?: number; signal?: AbortSignal } = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS + (options.waitMs ?? 0));
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response: Response;
    try {
      // The control API refuses changes without a JSON body or this header (cross-site request safety).
      const headers: Record<string, string> = { [CONTROL_HEADER]: '1' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      response = await fetch(`${this.baseUrl}${this.#withVm(path)}`, {
        method,
        signal,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      if (options.signal?.aborted) throw cause;
      throw this.#notRunning(cause);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new AzimdsError(
        'NOT_RUNNING',
        `${this.baseUrl} answered ${method} ${path} with something that is not the azimds control API (HTTP ${response.status})`,
        { cause },
      );
    }
    if (response.ok) return json as T;
    const error = (json as { error?: { code?: string; message?: string } }).error;
    const message = error?.message ?? `HTTP ${response.status}`;
    throw new AzimdsError(response.status === 400 ? 'INVALID_INPUT' : 'CONTROL_API', message);
  }

  #notRunning(cause: unknown): AzimdsError {
    const code = (cause as { cause?: { code?: string } }).cause?.code;
    const why =
      code === 'ECONNREFUSED'
        ? 'nothing is listening there'
        : (cause as Error).name === 'TimeoutError'
          ? 'it did not answer in time'
          : String((cause as { cause?: Error }).cause?.message ?? (cause as Error).message);
    return new AzimdsError(
      'NOT_RUNNING',
      `no azimds emulator is running at ${this.baseUrl} (${why}). Start one with \`azimds start\`, and give this command the same --config/--host/--port, or --url.`,
      { cause },
    );
  }
}

/**
 * The IMDS URL of VM `name`'s own listener, which the running emulator found by these flags opens
 * (`POST /vms/{name}/listeners`, docs/fleet.md): `azimds env --vm`, `azimds token --vm`.
 * @throws AzimdsError `NOT_RUNNING` when nothing answers, `CONTROL_API` for an unknown VM.
 */
export async function vmImdsUrl(flags: ConfigFlags, name: string): Promise<string | undefined> {
  const client = ControlClient.fromFlags({
    ...(flags.config ? { config: flags.config } : {}),
    ...(flags.host ? { host: flags.host } : {}),
    ...(flags.port ? { port: flags.port } : {}),
  });
  const own = await client.request<{ urls: { imds?: string } }>(
    'POST',
    `/vms/${encodeURIComponent(name)}/listeners`,
  );
  return own.urls.imds;
}
