/**
 * Skipping a test always says why: the reason goes to vitest's note (printed by its reporter) and to
 * the test's meta, which scripts/test-all.mjs lists with the test. A bare `it.skip`/`skipIf` gives
 * no reason and is listed as such.
 */
import type { TestContext } from 'vitest';

declare module 'vitest' {
  interface TaskMeta {
    /** Why the test was skipped. */
    skipReason?: string;
  }
}

/** The tests run as root, as CI does: root-only tests then always run, never skip. */
export const IS_ROOT = process.getuid?.() === 0;

export function skipBecause(ctx: TestContext, reason: string): never {
  ctx.task.meta.skipReason = reason;
  return ctx.skip(reason);
}

/** For a test that needs root (loop mounts, network namespaces): skipped with the reason unless root. */
export function needsRoot(ctx: TestContext, what: string): void {
  if (!IS_ROOT) skipBecause(ctx, `needs root (${what}); CI runs as root`);
}
