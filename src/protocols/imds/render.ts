import type { JsonValue } from '../../core/machines/json.js';
import { imdsErrors, parameterValueNotAllowed, type WireError } from '../../errors.js';
import { JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE } from '../../server/reply.js';

/** Serialized response of a found node. */
export interface Rendered {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * Serializes a node of the instance document as IMDS does:
 * - `format=json` (default): JSON; a leaf (a string) is refused, IMDS requires `format=text` for leaves;
 * - `format=text`: a leaf's bare value; an object's or array's child names one per line, with `/`
 *   after those that have children of their own.
 */
export function renderNode(value: JsonValue, format: string | undefined): Rendered | WireError {
  const leaf = value === null || typeof value !== 'object';
  if (format === undefined || format === 'json') {
    if (leaf) return imdsErrors.leafNeedsTextFormat;
    return { contentType: JSON_CONTENT_TYPE, body: Buffer.from(JSON.stringify(value)) };
  }
  if (format === 'text') {
    if (leaf) return { contentType: TEXT_CONTENT_TYPE, body: Buffer.from(String(value ?? '')) };
    const entries: Array<[string, JsonValue]> = Array.isArray(value)
      ? value.map((v, i) => [String(i), v])
      : Object.entries(value);
    const lines = entries.map(([k, v]) => (v !== null && typeof v === 'object' ? `${k}/` : k));
    return { contentType: TEXT_CONTENT_TYPE, body: Buffer.from(lines.join('\n')) };
  }
  return parameterValueNotAllowed('format', format);
}

/** Type guard: a render result that is an error. */
export function isWireError(r: Rendered | WireError): r is WireError {
  return 'status' in r;
}
