import { describe, expect, it } from 'vitest';
import { chartWindow, formatPercent, formatRate, latestOf, maxOf, pointsOf, rateUnit, recentMean, secondsAgoLabel } from './series';

const samples = [
  { t: 1_000, v: 10 as number | null },
  { t: 2_000, v: null },
  { t: 3_000, v: 30 },
  { t: 4_000, v: null },
];

describe('performance series', () => {
  it('places points in seconds before the newest sample, with gaps for missing figures', () => {
    expect(pointsOf(samples, (s) => s.v)).toEqual([
      { x: -3, y: 10 },
      { x: -2, y: null },
      { x: -1, y: 30 },
      { x: 0, y: null },
    ]);
    expect(pointsOf(samples, (s) => s.v, 10, 2)).toEqual([
      { x: -2, y: null },
      { x: -1, y: 3 },
      { x: 0, y: null },
    ]);
    expect(pointsOf([], (s: { t: number }) => s.t)).toEqual([]);
  });

  it('finds the newest figure and the recent mean, skipping missing ones', () => {
    expect(latestOf(samples, (s) => s.v)).toBe(30);
    expect(latestOf([{ v: null }], (s) => s.v)).toBeNull();
    expect(recentMean(samples, (s) => s.v, 3)).toBe(20);
    expect(recentMean(samples, (s) => s.v, 1)).toBe(30);
    expect(recentMean(samples.slice(3), (s) => s.v, 10)).toBeNull();
  });

  it('chooses a rate unit from the largest figure', () => {
    expect(rateUnit(500)).toEqual({ unit: 'B/s', divisor: 1 });
    expect(rateUnit(2048)).toEqual({ unit: 'KiB/s', divisor: 1024 });
    expect(rateUnit(3 * 1024 ** 2)).toEqual({ unit: 'MiB/s', divisor: 1024 ** 2 });
    expect(
      maxOf(
        samples,
        (s) => s.v,
        () => 12,
      ),
    ).toBe(30);
    expect(formatRate(1536)).toBe('1.5 KiB/s');
    expect(formatRate(null)).toBe('—');
    expect(formatPercent(7.25)).toBe('7.3 %');
    expect(formatPercent(87.4)).toBe('87 %');
  });

  it('spans what the samples cover, in whole minutes from one to five', () => {
    expect(chartWindow([])).toBe(60);
    expect(chartWindow([{ t: 0 }, { t: 30_000 }])).toBe(60);
    expect(chartWindow([{ t: 0 }, { t: 61_000 }])).toBe(120);
    expect(chartWindow([{ t: 0 }, { t: 299_000 }])).toBe(300);
    expect(chartWindow([{ t: 0 }, { t: 900_000 }])).toBe(300);
  });

  it('labels the time axis', () => {
    expect(secondsAgoLabel(0)).toBe('now');
    expect(secondsAgoLabel(-30)).toBe('−30 s');
    expect(secondsAgoLabel(-120)).toBe('−2 min');
  });
});
