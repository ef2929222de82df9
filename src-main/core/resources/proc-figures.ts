/**
 * The kernel's and QEMU's raw counters, read into numbers, and the rates between two readings: pure
 * functions, so the sampler's arithmetic is tested without a running machine.
 */

/** One process (all its threads): CPU time in clock ticks, when it started (to tell a reused pid), RSS in pages. */
export interface ProcessTimes {
  ticks: number;
  startTime: number;
  rssPages: number;
}

/**
 * /proc/PID/stat: the fields after the command name (which may hold spaces and parentheses, hence
 * the last ')'). utime and stime (fields 14, 15) of a process cover all its threads.
 */
export function parsePidStat(text: string): ProcessTimes | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 (state): field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const startTime = Number(fields[19]);
  const rssPages = Number(fields[21]);
  if (![utime, stime, startTime, rssPages].every((n) => Number.isFinite(n) && n >= 0)) return null;
  return { ticks: utime + stime, startTime, rssPages };
}

/** All host CPUs together, in clock ticks: time spent working and time in all. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/**
 * The first line of /proc/stat: user nice system idle iowait irq softirq steal [guest guest_nice].
 * guest time is already counted in user time, so it is left out of the total.
 */
export function parseCpuLine(text: string): CpuTimes | null {
  const end = text.indexOf('\n');
  const line = end < 0 ? text : text.slice(0, end);
  const m = /^cpu\s+(.*)$/.exec(line);
  if (!m?.[1]) return null;
  const values = m[1].trim().split(/\s+/).slice(0, 8).map(Number);
  if (values.length < 4 || !values.every((n) => Number.isFinite(n) && n >= 0)) return null;
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** /proc/meminfo, in KiB: the host's memory and what it can still give without swapping. */
export function parseMeminfo(text: string): { totalKiB: number; availableKiB: number } | null {
  const field = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const totalKiB = field('MemTotal');
  if (totalKiB === null || totalKiB <= 0) return null;
  // Kernels before 3.14 have no MemAvailable: free + page cache is the nearest figure.
  const availableKiB = field('MemAvailable') ?? (field('MemFree') ?? 0) + (field('Cached') ?? 0);
  return { totalKiB, availableKiB: Math.min(availableKiB, totalKiB) };
}

/** A machine's disks together: bytes and requests read and written since QEMU started. */
export interface BlockTotals {
  rdBytes: number;
  wrBytes: number;
  rdOps: number;
  wrOps: number;
}

/**
 * QMP query-blockstats: one entry per drive the guest sees (its `parent`/`backing` nodes are the
 * same requests seen lower down, so only the top entries count). null when the answer is not a list.
 */
export function sumBlockstats(raw: unknown): BlockTotals | null {
  if (!Array.isArray(raw)) return null;
  const totals: BlockTotals = { rdBytes: 0, wrBytes: 0, rdOps: 0, wrOps: 0 };
  for (const entry of raw as unknown[]) {
    const stats = (entry as { stats?: Record<string, unknown> } | null)?.stats;
    if (!stats) continue;
    const n = (key: string): number => {
      const v = stats[key];
      return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
    };
    totals.rdBytes += n('rd_bytes');
    totals.wrBytes += n('wr_bytes');
    totals.rdOps += n('rd_operations');
    totals.wrOps += n('wr_operations');
  }
  return totals;
}

/**
 * Per second between two readings of a counter. null when there is no earlier reading, no time
 * between them, or the counter went backwards (QEMU restarted, a device was replaced): the next
 * pair of readings gives a rate again.
 */
export function ratePerSecond(previous: number | null | undefined, next: number | null | undefined, seconds: number): number | null {
  if (previous === null || previous === undefined || next === null || next === undefined) return null;
  if (!(seconds > 0) || next < previous) return null;
  return (next - previous) / seconds;
}

/** A process's share of one CPU in percent, from its clock ticks over `seconds` of wall time. */
export function cpuPercent(previousTicks: number, ticks: number, seconds: number, clockTicksPerSecond: number): number | null {
  const perSecond = ratePerSecond(previousTicks, ticks, seconds);
  return perSecond === null ? null : (perSecond / clockTicksPerSecond) * 100;
}

/** The host's CPUs together, 0–100 %. */
export function hostCpuPercent(previous: CpuTimes, next: CpuTimes): number | null {
  const total = next.total - previous.total;
  const busy = next.busy - previous.busy;
  if (total <= 0 || busy < 0) return null;
  return Math.min(100, (busy / total) * 100);
}

/** /proc/PID/fdinfo/FD of a tun/tap file descriptor names its interface (`iff:\ttap0`). */
export function tunInterface(fdinfo: string): string | null {
  const m = /^iff:\s*(\S+)\s*$/m.exec(fdinfo);
  return m?.[1] && /^[\w.-]{1,15}$/.test(m[1]) ? m[1] : null;
}

export const round1 = (n: number | null): number | null => (n === null ? null : Math.round(n * 10) / 10);
