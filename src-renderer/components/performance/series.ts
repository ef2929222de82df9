/**
 * The Performance views' figures, from the samples the core keeps (MachineStats, HostStats): points
 * for live charts on a time axis in seconds before the newest sample (the host's clock, never the
 * viewer's, so a remote host's skew does not matter), the newest value of a series, and units.
 * Figures are written in the current language's way (i18n/format).
 */
import { t } from '../../i18n';
import { fixed } from '../../i18n/format';

export interface Point {
  /** Seconds before the newest sample (≤ 0). */
  x: number;
  /** null: no figure then (a gap in the line). */
  y: number | null;
}

/** The window the charts show, in seconds (the sampler keeps five minutes). */
export const WINDOW_SECONDS = 300;

/** One series of points from samples, on the newest sample's clock; older than the window are left out. */
export function pointsOf<S extends { t: number }>(
  samples: readonly S[],
  pick: (s: S) => number | null,
  scale = 1,
  windowSeconds = WINDOW_SECONDS,
): Point[] {
  const newest = samples.at(-1)?.t;
  if (newest === undefined) return [];
  const points: Point[] = [];
  for (const s of samples) {
    const x = (s.t - newest) / 1000;
    if (x < -windowSeconds) continue;
    const v = pick(s);
    points.push({ x: Math.round(x * 10) / 10, y: v === null || !Number.isFinite(v) ? null : v / scale });
  }
  return points;
}

/**
 * How many seconds the charts span: what the samples cover, in whole minutes, at least one and at
 * most the window — a view opened a minute ago is not squeezed into the last fifth of its charts.
 */
export function chartWindow(samples: readonly { t: number }[], windowSeconds = WINDOW_SECONDS): number {
  const first = samples[0]?.t;
  const last = samples.at(-1)?.t;
  const span = first === undefined || last === undefined ? 0 : (last - first) / 1000;
  return Math.min(windowSeconds, Math.max(60, Math.ceil(span / 60) * 60));
}

/** The newest figure of a series that has one, or null. */
export function latestOf<S>(samples: readonly S[], pick: (s: S) => number | null): number | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const v = pick(samples[i] as S);
    if (v !== null && Number.isFinite(v)) return v;
  }
  return null;
}

/** The mean of a series' figures over the last `seconds` (null without any). */
export function recentMean<S extends { t: number }>(samples: readonly S[], pick: (s: S) => number | null, seconds: number): number | null {
  const newest = samples.at(-1)?.t;
  if (newest === undefined) return null;
  let sum = 0;
  let n = 0;
  for (const s of samples) {
    const v = pick(s);
    if (s.t < newest - seconds * 1000 || v === null || !Number.isFinite(v)) continue;
    sum += v;
    n++;
  }
  return n === 0 ? null : sum / n;
}

/** The unit a rate axis reads best in, from the largest figure shown (bytes per second). */
export function rateUnit(maxBytesPerSecond: number): { unit: string; divisor: number } {
  if (maxBytesPerSecond >= 1024 ** 2) return { unit: 'MiB/s', divisor: 1024 ** 2 };
  if (maxBytesPerSecond >= 1024) return { unit: 'KiB/s', divisor: 1024 };
  return { unit: 'B/s', divisor: 1 };
}

/** The largest figure of several series. */
export function maxOf<S>(samples: readonly S[], ...picks: Array<(s: S) => number | null>): number {
  let max = 0;
  for (const s of samples)
    for (const pick of picks) {
      const v = pick(s);
      if (v !== null && Number.isFinite(v) && v > max) max = v;
    }
  return max;
}

export function formatRate(bytesPerSecond: number | null): string {
  if (bytesPerSecond === null) return '—';
  const { unit, divisor } = rateUnit(bytesPerSecond);
  const v = bytesPerSecond / divisor;
  return `${v >= 100 || divisor === 1 ? Math.round(v) : fixed(v, 1)} ${unit}`;
}

export function formatPercent(v: number | null): string {
  return v === null ? '—' : `${v >= 10 ? Math.round(v) : fixed(v, 1)} %`;
}

export function formatMiBOrDash(v: number | null): string {
  if (v === null) return '—';
  return v >= 1024 ? `${fixed(v / 1024, 1)} GiB` : `${Math.round(v)} MiB`;
}

/** Tick labels of the time axis: "now", "-30 s", "-2 min". */
export function secondsAgoLabel(x: number): string {
  if (x === 0) return t('performance.now');
  const s = Math.abs(x);
  if (s % 60 === 0) return `−${s / 60} min`;
  return `−${s} s`;
}
