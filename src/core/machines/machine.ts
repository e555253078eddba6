import type { VmConfig } from '../../config/schema.js';
import { documentForVersion } from './field-versions.js';
import { buildInstanceDocument } from './instance-document.js';
import type { JsonObject, JsonValue } from './json.js';

/** Result of walking a route-filter path into the instance document. */
export type PathLookup = { found: true; value: JsonValue } | { found: false };

/**
 * One emulated VM: its config, its instance document, and a revision that changes whenever either
 * does, so that protocols can cache serialized bytes and drop them on change.
 */
export class Machine {
  #config: VmConfig;
  #document: JsonObject;
  #revision = 0;
  readonly #byVersion = new Map<string, JsonObject>();

  constructor(config: VmConfig) {
    this.#config = config;
    this.#document = buildInstanceDocument(config);
  }

  /** Increases on every change of the VM's state. */
  get revision(): number {
    return this.#revision;
  }

  get config(): VmConfig {
    return this.#config;
  }

  /** The complete document at the newest api-version. */
  get document(): JsonObject {
    return this.#document;
  }

  /** The compute category's string field `key` (newest version), e.g. `vmId`. */
  compute(key: string): string {
    const v = (this.#document.compute as JsonObject)[key];
    return typeof v === 'string' ? v : '';
  }

  /** Replaces the VM's config (control API); the document is rebuilt and caches are invalidated. */
  replace(config: VmConfig): void {
    this.#config = config;
    this.#document = buildInstanceDocument(config);
    this.#byVersion.clear();
    this.#revision++;
  }

  /** The instance document as served for `version` (fields introduced later are absent). Memoized. */
  documentFor(version: string): JsonObject {
    let doc = this.#byVersion.get(version);
    if (!doc) {
      doc = documentForVersion(this.#document, version);
      this.#byVersion.set(version, doc);
    }
    return doc;
  }

  /**
   * Walks `segments` (object keys or array indexes) into the document served for `version`.
   * An unknown key or an out-of-range index is not found, as on Azure.
   */
  lookup(version: string, segments: readonly string[]): PathLookup {
    let node: JsonValue = this.documentFor(version);
    for (const segment of segments) {
      if (Array.isArray(node)) {
        if (!/^(0|[1-9]\d*)$/.test(segment)) return { found: false };
        const item: JsonValue | undefined = node[Number(segment)];
        if (item === undefined) return { found: false };
        node = item;
      } else if (node !== null && typeof node === 'object' && Object.hasOwn(node, segment)) {
        node = (node as JsonObject)[segment] as JsonValue;
      } else {
        return { found: false };
      }
    }
    return { found: true, value: node };
  }
}
