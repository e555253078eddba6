import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { z } from 'zod';
import { AzimdsError } from '../errors.js';
import { configProblems } from './consistency.js';
import { fromGoSimulator, isGoSimulatorConfig } from './go-simulator.js';
import { issueKey, issueMessage } from './issues.js';
import { type Config, configSchema } from './schema.js';
import { yaml } from './yaml.js';

/**
 * Resolves the configuration with one precedence, written down here and in docs/configuration.md:
 *
 *     command-line flags  >  environment (AZIMDS_*)  >  config file  >  defaults
 *
 * Each override names a config key path; the merged object is validated once, so every error names
 * the key path, and where an override caused it, the flag or variable too.
 */

/** One override from a flag or the environment. */
export interface Override {
  /** Key path in the config, e.g. `['imds', 'port']`. */
  path: readonly string[];
  value: unknown;
  /** What set it, for error messages: `--port`, `AZIMDS_PORT`. */
  source: string;
}

/**
 * The environment variables that override config keys, with the key each one sets. The CLI also reads
 * AZIMDS_CONFIG (the file) and AZIMDS_CONTROL_URL (a running emulator) as defaults of its options; all
 * of them are listed in docs/configuration.md (a test keeps that table complete).
 */
export const ENV_KEYS: ReadonlyArray<{ name: string; path: readonly string[] }> = [
  { name: 'AZIMDS_HOST', path: ['host'] },
  { name: 'AZIMDS_PORT', path: ['imds', 'port'] },
  { name: 'AZIMDS_LOG_LEVEL', path: ['logLevel'] },
  { name: 'AZIMDS_DATA_DIR', path: ['dataDir'] },
  { name: 'AZIMDS_TOKEN_SOURCE', path: ['tokens', 'source'] },
  { name: 'AZIMDS_AUTHORITY_HOST', path: ['tokens', 'upstream', 'authorityHost'] },
];

/** Overrides from the environment (`AZIMDS_*`), in the table above. */
export function environmentOverrides(env: NodeJS.ProcessEnv = process.env): Override[] {
  const out: Override[] = [];
  for (const { name, path } of ENV_KEYS) {
    const value = env[name];
    if (value !== undefined && value !== '') out.push({ path, value, source: name });
  }
  return out;
}

/** Reads a config file: JSON by `.json` extension, YAML otherwise (YAML also reads JSON). */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AzimdsError('CONFIG_NOT_FOUND', `config file ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    const raw = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : yaml().parse(text);
    return raw ?? {};
  } catch (cause) {
    throw new AzimdsError(
      'CONFIG_INVALID',
      // First line only: the yaml parser appends a multi-line source excerpt after the position.
      `config file ${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${firstLine((cause as Error).message)}`,
      {
        cause,
      },
    );
  }
}

/**
 * Validates raw config (a file's content or a library caller's object) after applying overrides.
 * The Go IMDS simulator's `config.json` is recognised and translated first.
 * @throws AzimdsError `CONFIG_INVALID` naming the key path and the problem.
 */
export function resolveConfig(raw: unknown, overrides: readonly Override[] = [], origin = 'config'): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AzimdsError('CONFIG_INVALID', `${origin}: the top level must be a mapping of keys to values`);
  }
  const base = isGoSimulatorConfig(raw)
    ? fromGoSimulator(raw)
    : structuredClone(raw as Record<string, unknown>);
  for (const o of overrides) setPath(base, o.path, o.value);
  const result = configSchema.safeParse(base);
  if (result.success) {
    // Across keys and on disk: port clashes, key and certificate files that are not there.
    const problems = configProblems(result.data);
    if (problems.length === 0) return result.data;
    throw new AzimdsError('CONFIG_INVALID', problems.map((p) => `${origin}: ${p}`).join('\n'));
  }
  throw new AzimdsError('CONFIG_INVALID', formatIssues(result.error, overrides, origin));
}

/** Loads, merges and validates: file (optional) < environment < flags. */
export function loadConfig(options: {
  file?: string;
  flags?: readonly Override[];
  env?: NodeJS.ProcessEnv;
}): Config {
  const raw = options.file ? readConfigFile(options.file) : {};
  const overrides = [...environmentOverrides(options.env), ...(options.flags ?? [])];
  return resolveConfig(raw, overrides, options.file ?? 'config');
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:$/, '');
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** One line per problem: `<origin>: <key.path>: <message> (from --flag)`. */
function formatIssues(error: z.ZodError, overrides: readonly Override[], origin: string): string {
  return error.issues
    .map((issue) => {
      const from = overrides.findLast((o) => o.path.join('.') === issue.path.join('.'));
      return `${from ? from.source : origin}: ${issueKey(issue) || '(top level)'}: ${issueMessage(issue)}`;
    })
    .join('\n');
}
