/**
 * `decodeURIComponent` for text a client sent, which may not be valid percent-encoding (`%ZZ`, a lone
 * `%`, an encoded lone surrogate): the decoded text, or `text` unchanged when it does not decode.
 * Never throws; for logs, redaction and lookups where the raw form is an acceptable answer. Where
 * malformed input must be refused (ARM paths, Entra's Basic credentials), call `decodeURIComponent`
 * and answer its URIError with that surface's error instead.
 * @param plusAsSpace decode `+` as a space first (`application/x-www-form-urlencoded`).
 */
export function decodePercentOrKeep(text: string, plusAsSpace = false): string {
  const input = plusAsSpace ? text.replace(/\+/g, ' ') : text;
  if (!input.includes('%')) return input;
  try {
    return decodeURIComponent(input);
  } catch {
    return input;
  }
}
