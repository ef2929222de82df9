/**
 * The host memory policy's decision, as a pure function of what it sees: the host's memory and each
 * managed machine's balloon, settings and guest statistics. Over the target it takes memory from the
 * balloons, in steps, more from the machines with the fewest shares per page, charging idle memory
 * more (ESX's idle memory tax, Waldspurger 2002 §5); under the target minus a margin it gives memory
 * back, more to the machines with the most shares per page, never above what each had before the
 * policy took any (its ceiling) and never below its minimum.
 */

/** ESX's default idle memory tax: an idle page costs 1 / (1 − τ) = 4 times an active one. */
export const IDLE_TAX = 0.75;
/** The most a step takes from (or gives to) a machine: this part of its memory, scaled by its weight. */
export const STEP_FRACTION = 1 / 8;
/** Memory goes back only once host use is this many points under the target (no see-saw at the line). */
export const HYSTERESIS_PERCENT = 5;
/** What the policy always leaves the guest of its available memory: a squeezed guest must not run out. */
export const GUEST_RESERVE_MIB = 16;
/** No step smaller than this, unless it is all that is left to the floor or the ceiling. */
const MIN_STEP_MIB = 4;

export interface HostMemory {
  totalMiB: number;
  availableMiB: number;
}

/** A running machine whose balloon works (device present, driver sending statistics). */
export interface PolicyMachine {
  uuid: string;
  name: string;
  /** Its memory at start: the balloon's full size. */
  memoryMiB: number;
  /** The floor: the policy never sets a target below it. */
  minimumMiB: number;
  shares: number;
  /** The most the policy gives back: the target set at start or by the user, before the policy took any. */
  ceilingMiB: number;
  /** The target asked of the guest now. */
  targetMiB: number;
  /** The guest's size now (query-balloon). */
  actualMiB: number;
  /** The guest's own figures (virtio-balloon statistics). */
  guest: { totalMiB: number | null; availableMiB: number | null; freeMiB: number | null };
  /** The policy set the current target (so it may raise it back to the ceiling, or to the minimum). */
  ownTarget: boolean;
}

export interface PolicyDecision {
  uuid: string;
  name: string;
  fromMiB: number;
  toMiB: number;
  why: string;
}

export interface PolicyOutcome {
  usedMiB: number;
  usedPercent: number;
  targetUsedMiB: number;
  decisions: PolicyDecision[];
  /** Why a machine was left as it is this time, by uuid. */
  notes: Map<string, string>;
}

/** Fraction of the guest's memory in use (not free, not reclaimable cache); 1 without figures (no tax). */
export function activeFraction(guest: PolicyMachine['guest']): number {
  const spare = guest.availableMiB ?? guest.freeMiB;
  if (guest.totalMiB === null || guest.totalMiB <= 0 || spare === null) return 1;
  return Math.min(1, Math.max(0, 1 - spare / guest.totalMiB));
}

/** ESX's shares per page with the idle tax: ρ = S / (P · (f + k(1 − f))), k = 1 / (1 − τ). */
export function adjustedShares(m: PolicyMachine, tax = IDLE_TAX): number {
  const f = activeFraction(m.guest);
  const k = 1 / (1 - tax);
  return m.shares / (Math.max(1, m.targetMiB) * (f + k * (1 - f)));
}

/** How far the guest may be from its target and still count as having reached it. */
function slackMiB(m: PolicyMachine): number {
  return Math.max(4, Math.round(m.memoryMiB * 0.02));
}

function percent(n: number): string {
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} %`;
}

/** Split `total` over the caps in proportion to them (whole MiB, never above a cap). */
function split(total: number, caps: Map<string, number>): Map<string, number> {
  const sum = [...caps.values()].reduce((a, b) => a + b, 0);
  const out = new Map<string, number>();
  if (sum <= 0 || total <= 0) return out;
  for (const [uuid, cap] of caps) {
    const share = Math.min(cap, Math.floor((total * cap) / sum));
    if (share > 0) out.set(uuid, share);
  }
  return out;
}

export function decide(host: HostMemory, targetPercent: number, machines: readonly PolicyMachine[]): PolicyOutcome {
  const usedMiB = host.totalMiB - host.availableMiB;
  const usedPercent = (100 * usedMiB) / host.totalMiB;
  const targetUsedMiB = Math.floor((host.totalMiB * targetPercent) / 100);
  const outcome: PolicyOutcome = { usedMiB, usedPercent, targetUsedMiB, decisions: [], notes: new Map() };
  const hostWords = `host ${percent(usedPercent)} used, target ${targetPercent} %`;

  // The floor first, whatever the host: a minimum raised since the policy's last step.
  const rest: PolicyMachine[] = [];
  for (const m of machines) {
    if (m.ownTarget && m.targetMiB < m.minimumMiB && m.targetMiB < m.ceilingMiB) {
      const to = Math.min(m.minimumMiB, m.ceilingMiB);
      outcome.decisions.push({
        uuid: m.uuid,
        name: m.name,
        fromMiB: m.targetMiB,
        toMiB: to,
        why: `raised to its minimum (${m.minimumMiB} MiB)`,
      });
    } else rest.push(m);
  }

  if (usedMiB > targetUsedMiB) shrink(outcome, rest, hostWords);
  else if (usedMiB < targetUsedMiB - (host.totalMiB * HYSTERESIS_PERCENT) / 100) giveBack(outcome, rest, host, hostWords);
  else for (const m of rest) outcome.notes.set(m.uuid, `${hostWords}: within ${HYSTERESIS_PERCENT} points under the target, left as it is`);
  return outcome;
}

function shrink(outcome: PolicyOutcome, machines: readonly PolicyMachine[], hostWords: string): void {
  // Memory the balloons are still taking is on its way back to the host: not asked for twice.
  const inflight = machines.reduce((sum, m) => sum + Math.max(0, m.actualMiB - m.targetMiB), 0);
  const need = outcome.usedMiB - outcome.targetUsedMiB - inflight;
  const above = machines.filter((m) => m.targetMiB > m.minimumMiB);
  for (const m of machines)
    if (m.targetMiB <= m.minimumMiB) outcome.notes.set(m.uuid, `${hostWords}: at its minimum (${m.minimumMiB} MiB)`);
  if (above.length === 0) return;
  // The cheapest memory (fewest adjusted shares per page) goes fastest: weight 1 for the cheapest.
  const cost = new Map(above.map((m) => [m.uuid, 1 / adjustedShares(m)]));
  const top = Math.max(...cost.values());
  const caps = new Map<string, number>();
  for (const m of above) {
    if (m.actualMiB > m.targetMiB + slackMiB(m)) {
      outcome.notes.set(m.uuid, `${hostWords}: its balloon is still moving to ${m.targetMiB} MiB (now ${m.actualMiB} MiB)`);
      continue;
    }
    const spare = m.guest.availableMiB ?? m.guest.freeMiB;
    const spareCap = spare === null ? Infinity : spare - GUEST_RESERVE_MIB;
    const step = Math.max(MIN_STEP_MIB, Math.round(m.memoryMiB * STEP_FRACTION * ((cost.get(m.uuid) ?? 0) / top)));
    const cap = Math.floor(Math.min(step, m.targetMiB - m.minimumMiB, spareCap));
    if (cap <= 0) {
      outcome.notes.set(m.uuid, `${hostWords}: the guest has no memory to spare (${spare ?? 0} MiB available)`);
      continue;
    }
    caps.set(m.uuid, cap);
  }
  if (need <= 0) {
    for (const m of above)
      if (!outcome.notes.has(m.uuid)) outcome.notes.set(m.uuid, `${hostWords}: waiting for the balloons to reach their targets`);
    return;
  }
  const cuts = split(
    Math.min(
      need,
      [...caps.values()].reduce((a, b) => a + b, 0),
    ),
    caps,
  );
  for (const m of above) {
    const cut = cuts.get(m.uuid);
    if (!cut) {
      if (!outcome.notes.has(m.uuid)) outcome.notes.set(m.uuid, `${hostWords}: others' memory is cheaper to take`);
      continue;
    }
    const f = activeFraction(m.guest);
    outcome.decisions.push({
      uuid: m.uuid,
      name: m.name,
      fromMiB: m.targetMiB,
      toMiB: m.targetMiB - cut,
      why: `${hostWords}: −${cut} MiB (shares ${m.shares}, ${Math.round(f * 100)} % of its memory active)`,
    });
  }
}

function giveBack(outcome: PolicyOutcome, machines: readonly PolicyMachine[], host: HostMemory, hostWords: string): void {
  // Memory already given that the guests have not taken yet counts as used.
  const pending = machines.reduce((sum, m) => sum + Math.max(0, m.targetMiB - m.actualMiB), 0);
  const room = outcome.targetUsedMiB - (host.totalMiB * HYSTERESIS_PERCENT) / 100 - outcome.usedMiB - pending;
  const below = machines.filter((m) => m.ownTarget && m.targetMiB < m.ceilingMiB);
  for (const m of machines) if (!below.includes(m)) outcome.notes.set(m.uuid, `${hostWords}: has all it had before the policy`);
  if (below.length === 0) return;
  // The dearest memory (most adjusted shares per page) comes back fastest.
  const worth = new Map(below.map((m) => [m.uuid, adjustedShares(m)]));
  const top = Math.max(...worth.values());
  const caps = new Map<string, number>();
  for (const m of below) {
    const step = Math.max(MIN_STEP_MIB, Math.round(m.memoryMiB * STEP_FRACTION * ((worth.get(m.uuid) ?? 0) / top)));
    caps.set(m.uuid, Math.min(step, m.ceilingMiB - m.targetMiB));
  }
  const gifts = split(
    Math.floor(
      Math.min(
        room,
        [...caps.values()].reduce((a, b) => a + b, 0),
      ),
    ),
    caps,
  );
  for (const m of below) {
    const gift = gifts.get(m.uuid);
    if (!gift) {
      outcome.notes.set(m.uuid, `${hostWords}: waiting for room under the target`);
      continue;
    }
    outcome.decisions.push({
      uuid: m.uuid,
      name: m.name,
      fromMiB: m.targetMiB,
      toMiB: m.targetMiB + gift,
      why: `${hostWords}: +${gift} MiB given back (shares ${m.shares}, up to ${m.ceilingMiB} MiB)`,
    });
  }
}

/** The policy stops (turned off, or its process ends): every machine gets back what the policy took. */
export function giveAllBack(machines: readonly PolicyMachine[], why: string): PolicyDecision[] {
  return machines
    .filter((m) => m.ownTarget && m.targetMiB < m.ceilingMiB)
    .map((m) => ({ uuid: m.uuid, name: m.name, fromMiB: m.targetMiB, toMiB: m.ceilingMiB, why }));
}
