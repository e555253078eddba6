import type { z } from 'zod';

/** A zod issue's key path as people write it: `vm.network.interface[0].macAddress` (empty at the top). */
export function issueKey(issue: z.core.$ZodIssue): string {
  return issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/**
 * A zod issue's message, naming the keys of an unknown-keys issue, and saying what is expected where
 * zod says only "Invalid input" (a union without its own message: the expectations of its branches).
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && issue.message === 'Invalid input') {
    const expected = new Set<string>();
    for (const branch of issue.errors) {
      for (const inner of branch) {
        if (inner.code === 'invalid_type') expected.add(String(inner.expected));
        else if (inner.path.length === 0) expected.add(issueMessage(inner));
      }
    }
    if (expected.size > 0) return `expected ${[...expected].join(' or ')}`;
  }
  if (issue.code !== 'unrecognized_keys') return issue.message;
  return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
}

/** A zod error as one line per problem, `key.path: message`, for API and library errors. */
export function issuesText(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const key = [prefix, issueKey(issue)].filter(Boolean).join('.');
      return key ? `${key}: ${issueMessage(issue)}` : issueMessage(issue);
    })
    .join('\n');
}
