import { describe, expect, it } from 'vitest';
import { activeFraction, adjustedShares, decide, giveAllBack, HYSTERESIS_PERCENT, type HostMemory, type PolicyMachine } from './decide.js';

const HOST: HostMemory = { totalMiB: 10_000, availableMiB: 5_000 }; // 50 % used

function machine(name: string, over: Partial<PolicyMachine> = {}): PolicyMachine {
  return {
    uuid: `uuid-${name}`,
    name,
    memoryMiB: 256,
    minimumMiB: 160,
    shares: 100,
    ceilingMiB: 256,
    targetMiB: 256,
    actualMiB: 256,
    guest: { totalMiB: 256, availableMiB: 200, freeMiB: 190 },
    ownTarget: false,
    ...over,
  };
}

/** Runs the policy on guests that reach each target at once, until nothing changes; the targets of every round. */
function simulate(host: HostMemory, targetPercent: number, start: PolicyMachine[], rounds = 50): Array<Record<string, number>> {
  let machines = start;
  const history: Array<Record<string, number>> = [];
  for (let i = 0; i < rounds; i++) {
    const { decisions } = decide(host, targetPercent, machines);
    if (decisions.length === 0) break;
    machines = machines.map((m) => {
      const d = decisions.find((x) => x.uuid === m.uuid);
      return d
        ? {
            ...m,
            targetMiB: d.toMiB,
            actualMiB: d.toMiB,
            ownTarget: true,
            guest: { ...m.guest, availableMiB: (m.guest.availableMiB ?? 0) + d.toMiB - d.fromMiB },
          }
        : m;
    });
    history.push(Object.fromEntries(machines.map((m) => [m.name, m.targetMiB])));
  }
  return history;
}

describe('adjusted shares (idle memory tax)', () => {
  it('charges idle memory four times active memory at τ = 0.75', () => {
    const busy = machine('busy', { guest: { totalMiB: 256, availableMiB: 0, freeMiB: 0 } });
    const idle = machine('idle', { guest: { totalMiB: 256, availableMiB: 256, freeMiB: 256 } });
    expect(activeFraction(busy.guest)).toBe(1);
    expect(activeFraction(idle.guest)).toBe(0);
    expect(adjustedShares(busy) / adjustedShares(idle)).toBeCloseTo(4);
  });

  it('takes no tax without figures, and uses free memory when available is missing', () => {
    expect(activeFraction({ totalMiB: null, availableMiB: 10, freeMiB: 10 })).toBe(1);
    expect(activeFraction({ totalMiB: 200, availableMiB: null, freeMiB: 50 })).toBeCloseTo(0.75);
  });
});

describe('decide over the target', () => {
  it('shrinks in steps, the fewest shares fastest, never below the minimum', () => {
    const start = [machine('a', { shares: 100 }), machine('b', { shares: 200 }), machine('c', { shares: 400 })];
    const history = simulate(HOST, 1, start);
    const first = history[0]!;
    // Weights 1 : 1/2 : 1/4 of a step of 1/8 of 256 MiB.
    expect(first).toEqual({ a: 224, b: 240, c: 248 });
    const last = history.at(-1)!;
    expect(last).toEqual({ a: 160, b: 160, c: 160 });
    for (const round of history) for (const v of Object.values(round)) expect(v).toBeGreaterThanOrEqual(160);
    const reached = (name: string): number => history.findIndex((r) => r[name] === 160);
    expect(reached('a')).toBeLessThan(reached('b'));
    expect(reached('b')).toBeLessThan(reached('c'));
    // More than one step each.
    for (const name of ['a', 'b', 'c']) expect(new Set(history.map((r) => r[name])).size).toBeGreaterThan(2);
  });

  it('takes only what is needed, split by weight', () => {
    // 50 % used, target 49 %: 100 MiB over.
    const { decisions } = decide(HOST, 49, [machine('a', { shares: 100 }), machine('b', { shares: 100 })]);
    const total = decisions.reduce((sum, d) => sum + d.fromMiB - d.toMiB, 0);
    expect(total).toBeLessThanOrEqual(100);
    expect(decisions.map((d) => d.toMiB)).toEqual([224, 224]);
    const small = decide(HOST, 50 - 0.1, [machine('a'), machine('b')]); // ~10 MiB over
    expect(small.decisions.reduce((sum, d) => sum + d.fromMiB - d.toMiB, 0)).toBeLessThanOrEqual(10);
    expect(small.decisions.length).toBeGreaterThan(0);
  });

  it('prefers the guest that does not use its memory', () => {
    const busy = machine('busy', { guest: { totalMiB: 256, availableMiB: 40, freeMiB: 30 } });
    const idle = machine('idle', { guest: { totalMiB: 256, availableMiB: 230, freeMiB: 220 } });
    const { decisions } = decide(HOST, 1, [busy, idle]);
    const cut = (name: string): number => {
      const d = decisions.find((x) => x.name === name);
      return d ? d.fromMiB - d.toMiB : 0;
    };
    expect(cut('idle')).toBe(32);
    expect(cut('busy')).toBeLessThan(cut('idle'));
  });

  it('leaves a guest its reserve, and a balloon still moving alone', () => {
    const tight = machine('tight', { guest: { totalMiB: 256, availableMiB: 10, freeMiB: 5 } });
    const moving = machine('moving', { targetMiB: 200, actualMiB: 240, ownTarget: true });
    const outcome = decide(HOST, 1, [tight, moving]);
    expect(outcome.decisions).toEqual([]);
    expect(outcome.notes.get('uuid-tight')).toMatch(/no memory to spare/);
    expect(outcome.notes.get('uuid-moving')).toMatch(/still moving to 200 MiB/);
  });

  it('does not ask twice for memory the balloons are still returning', () => {
    // 100 MiB over, and 90 MiB on its way back from "moving": only 10 more are asked of "a".
    const moving = machine('moving', { targetMiB: 160, actualMiB: 250, ownTarget: true });
    const { decisions } = decide(HOST, 49, [moving, machine('a')]);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]!.fromMiB - decisions[0]!.toMiB).toBeLessThanOrEqual(10);
  });

  it('raises a target below a minimum raised since', () => {
    const m = machine('a', { targetMiB: 160, actualMiB: 160, minimumMiB: 200, ownTarget: true });
    const { decisions } = decide(HOST, 1, [m]);
    expect(decisions).toEqual([expect.objectContaining({ fromMiB: 160, toMiB: 200, why: 'raised to its minimum (200 MiB)' })]);
  });
});

describe('decide under the target', () => {
  const squeezed = (name: string, shares: number): PolicyMachine =>
    machine(name, { shares, targetMiB: 160, actualMiB: 160, ownTarget: true, guest: { totalMiB: 160, availableMiB: 100, freeMiB: 90 } });

  it('gives back in steps, the most shares first, up to the ceiling', () => {
    const history = simulate(HOST, 99, [squeezed('a', 100), squeezed('b', 200), squeezed('c', 400)]);
    expect(history[0]!.c! - 160).toBeGreaterThan(history[0]!.a! - 160);
    expect(history.at(-1)).toEqual({ a: 256, b: 256, c: 256 });
    expect(history.length).toBeGreaterThan(2);
  });

  it('stops at a ceiling the user set, and never raises a target it did not set', () => {
    const user = machine('user', { ceilingMiB: 200, targetMiB: 200, actualMiB: 200 });
    const own = squeezed('own', 100);
    const history = simulate(HOST, 99, [user, { ...own, ceilingMiB: 192 }]);
    expect(history.at(-1)).toEqual({ user: 200, own: 192 });
  });

  it('holds still between the target and the hysteresis margin', () => {
    const outcome = decide(HOST, 50 + HYSTERESIS_PERCENT - 1, [squeezed('a', 100)]);
    expect(outcome.decisions).toEqual([]);
    expect(outcome.notes.get('uuid-a')).toMatch(/left as it is/);
  });

  it('gives back only the room under the margin', () => {
    // 50 % used, target 56 %: room = 56 − 5 − 50 = 1 % = 100 MiB.
    const { decisions } = decide(HOST, 56, [squeezed('a', 100), squeezed('b', 100), squeezed('c', 100), squeezed('d', 100)]);
    expect(decisions.reduce((sum, d) => sum + d.toMiB - d.fromMiB, 0)).toBeLessThanOrEqual(100);
  });
});

describe('giveAllBack', () => {
  it('returns every target the policy lowered to its ceiling, and nothing else', () => {
    const decisions = giveAllBack(
      [
        machine('own', { targetMiB: 160, ownTarget: true, ceilingMiB: 240 }),
        machine('user', { targetMiB: 180, ceilingMiB: 180 }),
        machine('full', { ownTarget: true }),
      ],
      'off',
    );
    expect(decisions).toEqual([{ uuid: 'uuid-own', name: 'own', fromMiB: 160, toMiB: 240, why: 'off' }]);
  });
});
