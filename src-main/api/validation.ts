import type { z } from 'zod';
import { VmdeskError } from './errors.js';

/** Every problem at once, one per line, each prefixed with the field it concerns. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return `${where}${issue.message}`;
    })
    .join('\n');
}

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new VmdeskError('INVALID_INPUT', `Invalid ${what}:\n${describeIssues(result.error.issues)}`, {
    issues: result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
  });
}
