/**
 * Live figures of the machines and of the host (the Performance views, `vmdesk stats`): one sampler
 * per core, one timer for all machines, running only while someone asks. The first request starts
 * it, with one sample taken at once; nobody asking for `idleMs` stops it, closes its agent
 * connections and forgets what it kept. Per tick and machine: one read of /proc/PID/stat (CPU and
 * RSS) and one round of QMP queries through the agent connection it keeps open (balloon, guest
 * statistics and block counters, sent together); per tick for the host: /proc/stat, /proc/meminfo
 * and KSM's counters.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { MachineConfig, MachineState } from '../../api/machine-config.js';
import type { GuestMemoryStats, HostSample, HostStats, MachineSample, MachineStats } from '../../api/resources.js';
import type { RuntimeStatus } from '../../api/types.js';
import type { AgentClient } from '../agent/agent-client.js';
import { GUEST_STATS_INTERVAL_S, balloonActualMiB, guestMemoryStats } from './balloon-qmp.js';
import { ensureGuestStats } from './balloon.js';
import {
  cpuPercent,
  hostCpuPercent,
  parseCpuLine,
  parseMeminfo,
  parsePidStat,
  ratePerSecond,
  round1,
  sumBlockstats,
  tunInterface,
  type BlockTotals,
  type CpuTimes,
} from './proc-figures.js';

/** What the sampler needs of the core: the library's machines and their runtime (the Core gives itself). */
export interface SamplerServices {
  readonly library: {
    entries(): Promise<Array<{ uuid: string; dir: string }>>;
    list(): Promise<Array<{ uuid: string; dir: string; config: MachineConfig | null }>>;
    find(ref: string): Promise<{ uuid: string; dir: string; config: MachineConfig }>;
  };
  readonly runtime: {
    status(uuid: string): RuntimeStatus;
    isActive(state: MachineState): boolean;
    connect(config: MachineConfig, dir: string): Promise<AgentClient>;
  };
}

export interface SamplerTiming {
  tickMs: number;
  /** Stop after nobody asked for this long. */
  idleMs: number;
  /** How much history each ring keeps. */
  windowMs: number;
  /** How often the library is listed again for machines started by anyone. */
  listEveryMs: number;
  /** After a failed agent connection, how long before the next try. */
  reconnectMs: number;
}

export const DEFAULT_TIMING: SamplerTiming = {
  tickMs: 1_000,
  idleMs: 15_000,
  windowMs: 5 * 60_000,
  listEveryMs: 5_000,
  reconnectMs: 5_000,
};

/**
 * USER_HZ, the unit of /proc's CPU times: 100 on every architecture Node runs on (it is part of the
 * kernel's ABI, whatever the kernel's own HZ).
 */
const CLOCK_TICKS = 100;
const MiB = 1024 * 1024;
const KSM_DIR = '/sys/kernel/mm/ksm';
const QMP_TIMEOUT_MS = 5_000;
/** BALLOON_CHANGE events say when the balloon moves; asking now and then covers a missed one. */
const BALLOON_REFRESH_MS = 30_000;
/** QEMU refreshes the guest's statistics every GUEST_STATS_INTERVAL_S: asking more often gets the same figures. */
const GUEST_REFRESH_MS = GUEST_STATS_INTERVAL_S * 1000 - 500;

/** What the sampler knows of one QEMU, forgotten when it stops or another takes its place. */
const FRESH_QEMU = { startTime: null, client: null, taps: null, previous: null, balloon: null, guest: null } as const;

let pageSizeCache: number | null = null;
function pageSize(): number {
  if (pageSizeCache === null) {
    try {
      pageSizeCache = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8', timeout: 2_000 }).trim()) || 4096;
    } catch {
      pageSizeCache = 4096;
    }
  }
  return pageSizeCache;
}

/**
 * /proc and /sys files are made by the kernel on read, from memory: read synchronously, which costs
 * a few microseconds, where the async API would add a thread-pool round trip per file.
 */
function readSmall(file: string): string | null {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return null;
  }
}

function readNumber(file: string): number | null {
  const text = readSmall(file);
  const n = text === null ? NaN : Number(text.trim());
  return Number.isFinite(n) ? n : null;
}

/** Keeps samples of the last `windowMs`, oldest first. */
function pushWindow<T extends { t: number }>(ring: T[], sample: T, windowMs: number): void {
  ring.push(sample);
  while (ring.length > 0 && (ring[0]?.t ?? 0) < sample.t - windowMs) ring.shift();
}

interface Reading {
  at: number;
  ticks: number;
  block: BlockTotals | null;
  net: { rx: number; tx: number } | null;
}

interface Track {
  uuid: string;
  name: string;
  dir: string;
  config: MachineConfig;
  /** QEMU's pid while it runs, null once it stopped. */
  pid: number | null;
  startTime: number | null;
  client: AgentClient | null;
  connectAfter: number;
  /** The tap devices of its bridged adapters, found once per QEMU; null: not looked for yet. */
  taps: string[] | null;
  previous: Reading | null;
  /** query-balloon's answer and when it was asked; BALLOON_CHANGE events keep it current between. */
  balloon: { mib: number | null; at: number } | null;
  /** The guest's statistics and when they were fetched (its driver sends them every few seconds). */
  guest: { stats: GuestMemoryStats | null; at: number } | null;
  samples: MachineSample[];
  notes: Map<string, string>;
  busy: Promise<void> | null;
}

export class StatsSampler {
  private readonly timing: SamplerTiming;
  private readonly tracks = new Map<string, Track>();
  private hostSamples: HostSample[] = [];
  private hostPrevious: CpuTimes | null = null;
  private hostBusy: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private lastAsked = 0;
  private lastListed = 0;

  constructor(
    private readonly services: SamplerServices,
    timing: Partial<SamplerTiming> = {},
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  /** Sampling now (someone asked within the idle period). */
  get active(): boolean {
    return this.timer !== null;
  }

  async machine(ref: string): Promise<MachineStats> {
    this.wake();
    let track = this.findTrack(ref);
    if (!track || track.pid === null) {
      const record = await this.services.library.find(ref);
      const status = this.services.runtime.status(record.uuid);
      track = this.tracks.get(record.uuid);
      if (this.services.runtime.isActive(status.state) && status.qemuPid !== undefined) {
        track = this.attach(record, status.qemuPid);
      } else if (!track) {
        return { uuid: record.uuid, samples: [], notes: [notRunning(record.config.name, status.state)] };
      } else {
        track.notes.set('state', notRunning(record.config.name, status.state));
      }
    }
    if (track.samples.length === 0 && track.pid !== null) await this.sampleMachine(track);
    return { uuid: track.uuid, samples: [...track.samples], notes: [...track.notes.values()] };
  }

  async host(): Promise<HostStats> {
    this.wake();
    if (this.hostSamples.length === 0) {
      if (this.lastListed === 0) await this.refreshMachines();
      await this.sampleHost();
    }
    const meminfo = parseMeminfo(readSmall('/proc/meminfo') ?? '');
    return {
      samples: [...this.hostSamples],
      cpus: hostCpuCount(),
      memoryMiB: meminfo ? Math.round(meminfo.totalKiB / 1024) : 0,
    };
  }

  /** Stop sampling and forget (the core is closing, or nobody watches any more). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const track of this.tracks.values()) track.client?.close();
    this.tracks.clear();
    this.hostSamples = [];
    this.hostPrevious = null;
    this.lastListed = 0;
  }

  private wake(): void {
    this.lastAsked = Date.now();
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.timing.tickMs);
    // Never the reason a process stays alive: whoever asks keeps it alive.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    if (Date.now() - this.lastAsked > this.timing.idleMs) {
      this.stop();
      return;
    }
    this.ticking = true;
    try {
      if (Date.now() - this.lastListed >= this.timing.listEveryMs) await this.refreshMachines();
      await Promise.all([this.sampleHost(), ...[...this.tracks.values()].filter((t) => t.pid !== null).map((t) => this.sampleMachine(t))]);
    } finally {
      this.ticking = false;
    }
  }

  private findTrack(ref: string): Track | undefined {
    return this.tracks.get(ref) ?? [...this.tracks.values()].find((t) => t.name === ref);
  }

  /** Every running machine of the library gets a track: the host's overcommit counts them all. */
  /**
   * Only library.json and the runtime files are read every time; the machines' configs only when a
   * machine runs in a QEMU the sampler does not know yet.
   */
  private async refreshMachines(): Promise<void> {
    this.lastListed = Date.now();
    const entries = await this.services.library.entries().catch(() => null);
    if (!entries) return;
    const seen = new Set<string>();
    let records: Map<string, { uuid: string; dir: string; config: MachineConfig | null }> | null = null;
    for (const entry of entries) {
      seen.add(entry.uuid);
      const status = this.services.runtime.status(entry.uuid);
      const track = this.tracks.get(entry.uuid);
      if (this.services.runtime.isActive(status.state) && status.qemuPid !== undefined) {
        if (track?.pid === status.qemuPid) continue;
        records ??= await this.services.library.list().then(
          (list) => new Map(list.map((r) => [r.uuid, r])),
          () => new Map(),
        );
        const config = records.get(entry.uuid)?.config;
        if (config) this.attach({ uuid: entry.uuid, dir: entry.dir, config }, status.qemuPid);
      } else if (track && track.pid !== null) {
        this.detach(track, notRunning(track.name, status.state));
      }
    }
    for (const [uuid, track] of this.tracks) {
      if (seen.has(uuid)) continue;
      track.client?.close();
      this.tracks.delete(uuid);
    }
  }

  /** A track for a machine running in QEMU `pid` (a new one, or one whose QEMU changed). */
  private attach(record: { uuid: string; dir: string; config: MachineConfig }, pid: number): Track {
    let track = this.tracks.get(record.uuid);
    if (!track) {
      track = {
        uuid: record.uuid,
        name: record.config.name,
        dir: record.dir,
        config: record.config,
        pid: null,
        connectAfter: 0,
        ...FRESH_QEMU,
        samples: [],
        notes: new Map(),
        busy: null,
      };
      this.tracks.set(record.uuid, track);
    }
    track.name = record.config.name;
    track.dir = record.dir;
    track.config = record.config;
    if (track.pid !== pid) {
      track.client?.close();
      Object.assign(track, FRESH_QEMU, { pid, connectAfter: 0 });
      track.notes.delete('state');
    }
    const network = networkNote(record.config);
    if (network) track.notes.set('network', network);
    else track.notes.delete('network');
    return track;
  }

  private detach(track: Track, note: string): void {
    track.client?.close();
    Object.assign(track, FRESH_QEMU, { pid: null });
    track.notes.set('state', note);
  }

  /** One sample of one machine; a tick never waits twice on one machine that is slow to answer. */
  private sampleMachine(track: Track): Promise<void> {
    if (!track.busy)
      track.busy = this.takeMachineSample(track).finally(() => {
        track.busy = null;
      });
    return track.busy;
  }

  private async takeMachineSample(track: Track): Promise<void> {
    const pid = track.pid;
    if (pid === null) return;
    const at = performance.now();
    const t = Date.now();
    const stat = parsePidStat(readSmall(`/proc/${pid}/stat`) ?? '');
    if (!stat || (track.startTime !== null && stat.startTime !== track.startTime)) {
      this.detach(track, notRunning(track.name, this.services.runtime.status(track.uuid).state));
      return;
    }
    track.startTime = stat.startTime;
    const client = await this.clientFor(track);
    const block = client ? await this.askQemu(track, client) : null;
    if (track.pid !== pid) return;
    const actual = client ? (track.balloon?.mib ?? null) : null;
    const guest = client ? (track.guest?.stats ?? null) : null;
    const net = this.readTaps(track, pid);
    const previous = track.previous;
    const seconds = previous ? (at - previous.at) / 1000 : 0;
    const reading: Reading = { at, ticks: stat.ticks, block, net };
    const rate = (pick: (r: Reading) => number | undefined): number | null =>
      previous ? round1(ratePerSecond(pick(previous), pick(reading), seconds)) : null;
    pushWindow(
      track.samples,
      {
        t,
        cpuPercent: previous ? round1(cpuPercent(previous.ticks, stat.ticks, seconds, CLOCK_TICKS)) : null,
        rssMiB: Math.round((stat.rssPages * pageSize()) / MiB),
        balloonActualMiB: actual,
        guestFreeMiB: guest?.freeMiB ?? null,
        diskReadBps: rate((r) => r.block?.rdBytes),
        diskWriteBps: rate((r) => r.block?.wrBytes),
        diskReadIops: rate((r) => r.block?.rdOps),
        diskWriteIops: rate((r) => r.block?.wrOps),
        netRxBps: rate((r) => r.net?.rx),
        netTxBps: rate((r) => r.net?.tx),
      },
      this.timing.windowMs,
    );
    track.previous = reading;
    if (client && track.balloon && actual === null) track.notes.set('balloon', `${track.name} has no memory balloon: no balloon size`);
    else track.notes.delete('balloon');
    if (client && track.guest && !guest)
      track.notes.set('guest', `The guest's balloon driver sends no memory statistics (not loaded, or no balloon): no guest free memory`);
    else track.notes.delete('guest');
  }

  /**
   * One round of QMP queries, sent together: the block counters every tick, the balloon's size and the
   * guest's statistics only when they may have changed. Resolves with the block counters.
   */
  private async askQemu(track: Track, client: AgentClient): Promise<BlockTotals | null> {
    const now = Date.now();
    const current = (): boolean => track.client === client;
    const asks: Array<Promise<unknown>> = [];
    if (!track.balloon || now - track.balloon.at >= BALLOON_REFRESH_MS)
      asks.push(
        balloonActualMiB(client).then(
          (mib) => current() && (track.balloon = { mib, at: now }),
          () => undefined,
        ),
      );
    if (!track.guest || now - track.guest.at >= GUEST_REFRESH_MS)
      asks.push(guestMemoryStats(client).then((stats) => current() && (track.guest = { stats, at: now })));
    const block = client
      .qmp('query-blockstats', undefined, QMP_TIMEOUT_MS)
      .then(sumBlockstats)
      .catch(() => null);
    await Promise.all(asks);
    return block;
  }

  /** The machine's agent connection, kept open while sampling; a failed connection is retried later, not every tick. */
  private async clientFor(track: Track): Promise<AgentClient | null> {
    if (track.client && !track.client.isClosed) return track.client;
    track.client = null;
    if (Date.now() < track.connectAfter) return null;
    const pid = track.pid;
    try {
      const client = await this.services.runtime.connect(track.config, track.dir);
      if (track.pid !== pid || !this.timer) {
        client.close();
        return null;
      }
      track.client = client;
      track.notes.delete('agent');
      // A guest whose statistics nobody asked QEMU for (an agent replaced, a resumed state) sends none.
      if (track.config.resources.balloon) void ensureGuestStats(client).catch(() => undefined);
      client.on('close', () => {
        if (track.client === client) track.client = null;
      });
      client.on('qmp', (name, data) => {
        const actual = (data as { actual?: unknown } | undefined)?.actual;
        if (name === 'BALLOON_CHANGE' && track.client === client && typeof actual === 'number')
          track.balloon = { mib: Math.round(actual / MiB), at: track.balloon?.at ?? Date.now() };
      });
      return client;
    } catch (err) {
      track.connectAfter = Date.now() + this.timing.reconnectMs;
      track.notes.set('agent', `${track.name}'s agent does not answer: no balloon, guest or disk figures (${(err as Error).message})`);
      return null;
    }
  }

  /**
   * Bridged adapters: QEMU's tap devices, found once through its tun file descriptors, then their
   * kernel counters. What the guest sends, the tap receives: rx and tx swap.
   */
  private readTaps(track: Track, pid: number): { rx: number; tx: number } | null {
    if (!track.config.nics.some((n) => n.attachment.type === 'bridged')) return null;
    track.taps ??= findTaps(pid);
    if (track.taps.length === 0) {
      track.notes.set('network', `The tap device of ${track.name}'s bridged adapter was not found: no network figures`);
      return null;
    }
    let rx = 0;
    let tx = 0;
    for (const tap of track.taps) {
      const received = readNumber(`/sys/class/net/${tap}/statistics/tx_bytes`);
      const sent = readNumber(`/sys/class/net/${tap}/statistics/rx_bytes`);
      if (received === null || sent === null) return null;
      rx += received;
      tx += sent;
    }
    return { rx, tx };
  }

  private sampleHost(): Promise<void> {
    if (!this.hostBusy)
      this.hostBusy = Promise.resolve()
        .then(() => this.takeHostSample())
        .finally(() => {
          this.hostBusy = null;
        });
    return this.hostBusy;
  }

  private takeHostSample(): void {
    const meminfo = parseMeminfo(readSmall('/proc/meminfo') ?? '');
    const cpu = parseCpuLine(readSmall('/proc/stat') ?? '');
    if (!meminfo) return;
    const memTotalMiB = Math.round(meminfo.totalKiB / 1024);
    const machinesMiB = [...this.tracks.values()].filter((t) => t.pid !== null).reduce((sum, t) => sum + t.config.memoryMiB, 0);
    pushWindow(
      this.hostSamples,
      {
        t: Date.now(),
        cpuPercent: cpu && this.hostPrevious ? round1(hostCpuPercent(this.hostPrevious, cpu)) : null,
        memUsedMiB: Math.round((meminfo.totalKiB - meminfo.availableKiB) / 1024),
        memTotalMiB,
        ksmSavedMiB: ksmSavedMiB(),
        overcommitRatio: Math.round((machinesMiB / memTotalMiB) * 1000) / 1000,
      },
      this.timing.windowMs,
    );
    if (cpu) this.hostPrevious = cpu;
  }
}

function notRunning(name: string, state: MachineState): string {
  return `${name} is not running (it is ${state}): no new figures`;
}

function networkNote(config: MachineConfig): string | null {
  if (config.nics.length === 0) return `${config.name} has no network adapter`;
  if (config.nics.some((n) => n.attachment.type === 'bridged')) {
    return config.nics.every((n) => n.attachment.type === 'bridged')
      ? null
      : 'Network figures count the bridged adapters only: QEMU does not count NAT or internal-network traffic';
  }
  return 'No network figures: QEMU does not count the traffic of NAT or internal-network adapters';
}

/** Memory KSM saves: (pages_sharing + ksm_zero_pages) × page size; null without KSM. */
function ksmSavedMiB(): number | null {
  const sharing = readNumber(`${KSM_DIR}/pages_sharing`);
  if (sharing === null) return null;
  const zero = readNumber(`${KSM_DIR}/ksm_zero_pages`) ?? 0;
  return Math.round(((sharing + zero) * pageSize()) / MiB);
}

/** The interfaces of a process's tun/tap file descriptors. */
export function findTaps(pid: number): string[] {
  const taps = new Set<string>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== '/dev/net/tun') continue;
    const iff = tunInterface(readSmall(`/proc/${pid}/fdinfo/${fd}`) ?? '');
    if (iff) taps.add(iff);
  }
  return [...taps];
}

let cpuCountCache: number | null = null;
function hostCpuCount(): number {
  if (cpuCountCache === null) {
    const text = readSmall('/proc/stat') ?? '';
    cpuCountCache = Math.max(1, (text.match(/^cpu\d+ /gm) ?? []).length);
  }
  return cpuCountCache;
}
