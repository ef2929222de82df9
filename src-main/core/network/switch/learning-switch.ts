/**
 * The forwarding decision of an Ethernet learning switch, without any I/O: the source MAC of every
 * frame is learned on the port it came in on; a unicast frame to a learned MAC goes to that port
 * only, broadcast, multicast and unknown destinations are flooded; nothing goes back to its sender.
 */
import { ETHERNET_HEADER } from './frame-codec.js';

/** Learned addresses are forgotten after this long without a frame from them (as in 802.1D). */
export const MAC_AGEING_MS = 300_000;

interface Entry<P> {
  port: P;
  seen: number;
}

export function macToString(frame: Uint8Array, offset: number): string {
  const parts: string[] = [];
  for (let i = offset; i < offset + 6; i++) parts.push((frame[i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

function macKey(frame: Uint8Array, offset: number): number {
  // 48 bits fit a double exactly.
  let key = 0;
  for (let i = offset; i < offset + 6; i++) key = key * 256 + (frame[i] ?? 0);
  return key;
}

export class LearningSwitch<P> {
  private readonly ports = new Set<P>();
  private readonly table = new Map<number, Entry<P>>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ageingMs = MAC_AGEING_MS,
  ) {}

  addPort(port: P): void {
    this.ports.add(port);
  }

  /** The port's learned addresses go with it. */
  removePort(port: P): void {
    this.ports.delete(port);
    for (const [key, entry] of this.table) if (entry.port === port) this.table.delete(key);
  }

  get portCount(): number {
    return this.ports.size;
  }

  /** Where a frame received on `from` goes: an empty list when it goes nowhere (or is too short). */
  receive(from: P, frame: Uint8Array): P[] {
    if (frame.length < ETHERNET_HEADER || !this.ports.has(from)) return [];
    const now = this.now();
    const sourceMulticast = ((frame[6] ?? 0) & 1) === 1;
    if (!sourceMulticast) this.table.set(macKey(frame, 6), { port: from, seen: now });
    const destinationMulticast = ((frame[0] ?? 0) & 1) === 1;
    if (!destinationMulticast) {
      const key = macKey(frame, 0);
      const entry = this.table.get(key);
      if (entry && now - entry.seen <= this.ageingMs) return entry.port === from ? [] : [entry.port];
      if (entry) this.table.delete(key);
    }
    const out: P[] = [];
    for (const port of this.ports) if (port !== from) out.push(port);
    return out;
  }

  /** The port a MAC was learned on (for tests and logs). */
  lookup(mac: string): P | undefined {
    const bytes = mac.split(':').map((h) => parseInt(h, 16));
    return this.table.get(macKey(Uint8Array.from(bytes), 0))?.port;
  }
}
