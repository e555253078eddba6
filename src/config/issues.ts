import type { z } from 'zod';

/** A zod error as one line per problem, `key.path: message`, for API and library errors. */
export function issuesText(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '[');
      const key = [prefix, path].filter(Boolean).join('.');
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
          : issue.message;
      return key ? `${key}: ${message}` : message;
    })
    .join('\n');
}
