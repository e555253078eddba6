/**
 * A fault rule's path: exact, or a pattern where `*` stands for any characters (`/` included).
 * Compiled once when the rule is added; matching an exact path is a string comparison.
 */
export type PathMatcher = (path: string) => boolean;

export function compilePathPattern(pattern: string | undefined): PathMatcher {
  if (pattern === undefined || pattern === '*') return () => true;
  if (!pattern.includes('*')) return (path) => path === pattern;
  const star = pattern.indexOf('*');
  if (star === pattern.length - 1) {
    const prefix = pattern.slice(0, -1);
    return (path) => path.startsWith(prefix);
  }
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 's');
  return (path) => regex.test(path);
}
