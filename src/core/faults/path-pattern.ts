/**
 * A fault rule's path: exact, or a pattern where `*` stands for any characters (`/` included).
 * Compiled once when the rule is added; matching an exact path is a string comparison.
 *
 * A trailing `/` on the request path is ignored, as IMDS ignores it: msal-node (and so
 * @azure/identity) asks for `/metadata/identity/oauth2/token/`.
 */
export type PathMatcher = (path: string) => boolean;

export function compilePathPattern(pattern: string | undefined): PathMatcher {
  if (pattern === undefined || pattern === '*') return () => true;
  const base = pattern.length > 1 && pattern.endsWith('/') ? pattern.slice(0, -1) : pattern;
  if (!base.includes('*')) {
    const slashed = `${base}/`;
    return (path) => path === base || path === slashed;
  }
  if (base.indexOf('*') === base.length - 1) {
    const prefix = base.slice(0, -1);
    return (path) => path.startsWith(prefix);
  }
  const source = base
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}/?$`, 's');
  return (path) => regex.test(path);
}
