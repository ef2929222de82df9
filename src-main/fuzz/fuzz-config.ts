/**
 * How much the property-based and fuzz tests run. In the suites they run a bounded number of cases
 * with a fixed seed, so a run is repeatable and a failure reproducible; `npm run fuzz` raises the
 * count (VMDESK_FUZZ_RUNS) and draws a new seed (VMDESK_FUZZ_SEED) for long campaigns.
 */
import type { Parameters } from 'fast-check';

/** The seed every suite run uses, unless VMDESK_FUZZ_SEED says otherwise. */
export const DEFAULT_SEED = 20261202;

export function fuzzSeed(): number {
  const raw = process.env.VMDESK_FUZZ_SEED;
  const seed = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(seed) ? seed : DEFAULT_SEED;
}

/** The number of cases: `inSuite` normally, VMDESK_FUZZ_RUNS (times `scale`) in a campaign. */
export function fuzzRuns(inSuite: number, scale = 1): number {
  const raw = process.env.VMDESK_FUZZ_RUNS;
  const runs = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(runs) && runs > 0 ? Math.max(1, Math.round(runs * scale)) : inSuite;
}

/** fast-check parameters for one property: its case count and the seed (printed with a failure, to replay it). */
export function fuzzParameters(inSuite: number, scale = 1): Pick<Parameters, 'numRuns' | 'seed' | 'endOnFailure'> {
  return { numRuns: fuzzRuns(inSuite, scale), seed: fuzzSeed(), endOnFailure: true };
}

/** A test's time limit that grows with the case count of a campaign. */
export function fuzzTimeout(inSuite: number, msPerCase: number, scale = 1): number {
  return Math.max(30_000, fuzzRuns(inSuite, scale) * msPerCase + 30_000);
}
