import type { z } from 'zod';

/** A zod issue's key path as people write it: `vm.network.interface[0].macAddress` (empty at the top). */
export function issueKey(issue: z.core.$ZodIssue): string {
  return issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/** A zod issue's message, naming the keys of an unknown-keys issue. */
export function issueMessage(issue: z.core.$ZodIssue): string {
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
