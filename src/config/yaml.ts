import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');
let loaded: Yaml | undefined;

/**
 * The `yaml` package, loaded on first use (a YAML config file, `azimds start --print-config`): ~290 KB
 * of JavaScript in 72 modules, 25–35 ms of a cold start-up that options passed as an object never need.
 * `require` (yaml ships CommonJS for Node) keeps the callers synchronous.
 */
export function yaml(): Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as Yaml;
  return loaded;
}
