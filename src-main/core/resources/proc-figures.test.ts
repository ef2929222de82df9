import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cpuPercent,
  hostCpuPercent,
  parseCpuLine,
  parseMeminfo,
  parsePidStat,
  ratePerSecond,
  sumBlockstats,
  tunInterface,
} from './proc-figures.js';

// A QEMU's /proc/PID/stat (its command name with a space and parentheses, as a hostile name could be).
const QEMU_STAT =
  '4242 (qemu (x) sys) S 1 4242 4242 0 -1 4194624 51234 0 12 0 1500 250 0 0 20 0 5 0 987654 2147483648 34567 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';

describe('/proc parsers', () => {
  it('reads CPU ticks (utime + stime), start time and RSS from /proc/PID/stat', () => {
    expect(parsePidStat(QEMU_STAT)).toEqual({ ticks: 1750, startTime: 987654, rssPages: 34567 });
  });

  it('reads the real /proc/self/stat of this process', () => {
    const own = parsePidStat(fs.readFileSync('/proc/self/stat', 'latin1'));
    expect(own?.rssPages).toBeGreaterThan(0);
    expect(own?.startTime).toBeGreaterThan(0);
  });

  it('refuses a truncated or garbled stat line', () => {
    expect(parsePidStat('')).toBeNull();
    expect(parsePidStat('4242 (qemu) S 1 2 3')).toBeNull();
    expect(parsePidStat(QEMU_STAT.replace(' 1500 ', ' x '))).toBeNull();
  });

  it('reads the host CPU line of /proc/stat, leaving guest time out of the total', () => {
    const text = 'cpu  100 10 50 800 40 0 5 0 70 0\ncpu0 50 5 25 400 20 0 2 0 35 0\nintr 1\n';
    // busy = user + nice + system + irq + softirq + steal; idle = idle + iowait.
    expect(parseCpuLine(text)).toEqual({ busy: 165, total: 1005 });
    expect(parseCpuLine('cpu0 1 2 3 4\n')).toBeNull();
    expect(parseCpuLine('cpu  1 2 x 4\n')).toBeNull();
    expect(parseCpuLine(fs.readFileSync('/proc/stat', 'latin1'))?.total).toBeGreaterThan(0);
  });

  it('reads MemTotal and MemAvailable, with free + cached on kernels without MemAvailable', () => {
    expect(parseMeminfo('MemTotal:       24000000 kB\nMemFree:  1000 kB\nMemAvailable:   12000000 kB\n')).toEqual({
      totalKiB: 24000000,
      availableKiB: 12000000,
    });
    expect(parseMeminfo('MemTotal: 1000 kB\nMemFree: 200 kB\nCached: 300 kB\n')).toEqual({ totalKiB: 1000, availableKiB: 500 });
    expect(parseMeminfo('MemFree: 200 kB\n')).toBeNull();
    expect(parseMeminfo(fs.readFileSync('/proc/meminfo', 'latin1'))?.totalKiB).toBeGreaterThan(0);
  });

  it('finds the interface of a tun file descriptor in its fdinfo', () => {
    expect(tunInterface('pos:\t0\nflags:\t0104002\nmnt_id:\t25\nino:\t1234\niff:\ttap0\n')).toBe('tap0');
    expect(tunInterface('pos:\t0\nflags:\t0100000\n')).toBeNull();
    expect(tunInterface('iff:\t../../etc\n')).toBeNull();
  });
});

describe('QMP block counters', () => {
  it('sums the top entries of query-blockstats, not their parent or backing nodes', () => {
    const node = (rd: number, wr: number, rdOps: number, wrOps: number) => ({
      stats: { rd_bytes: rd, wr_bytes: wr, rd_operations: rdOps, wr_operations: wrOps, flush_operations: 9 },
    });
    const raw = [
      { device: '', qdev: '/machine/peripheral/disk0/virtio-backend', ...node(1000, 2000, 10, 20), parent: node(999, 999, 9, 9) },
      { device: '', qdev: 'cdrom', ...node(500, 0, 5, 0) },
    ];
    expect(sumBlockstats(raw)).toEqual({ rdBytes: 1500, wrBytes: 2000, rdOps: 15, wrOps: 20 });
    expect(sumBlockstats([])).toEqual({ rdBytes: 0, wrBytes: 0, rdOps: 0, wrOps: 0 });
    expect(sumBlockstats({ error: 'x' })).toBeNull();
    // A figure QEMU does not give (or gives oddly) counts as nothing, not NaN.
    expect(sumBlockstats([{ stats: { rd_bytes: -1, wr_bytes: 'x' } }, null])).toEqual({ rdBytes: 0, wrBytes: 0, rdOps: 0, wrOps: 0 });
  });
});

describe('rates', () => {
  it('divides the growth of a counter by the seconds between readings', () => {
    expect(ratePerSecond(1000, 3000, 2)).toBe(1000);
    expect(ratePerSecond(5, 5, 1)).toBe(0);
  });

  it('gives no rate without an earlier reading, without elapsed time, or when the counter went backwards', () => {
    expect(ratePerSecond(null, 100, 1)).toBeNull();
    expect(ratePerSecond(undefined, 100, 1)).toBeNull();
    expect(ratePerSecond(100, null, 1)).toBeNull();
    expect(ratePerSecond(100, 200, 0)).toBeNull();
    // QEMU restarted: its counters start again from zero.
    expect(ratePerSecond(1_000_000, 4096, 1)).toBeNull();
  });

  it('turns clock ticks into percent of one CPU (a busy vCPU thread and an idle one)', () => {
    expect(cpuPercent(1000, 1100, 1, 100)).toBe(100);
    expect(cpuPercent(1000, 1150, 2, 100)).toBe(75);
    expect(cpuPercent(1000, 1000, 1, 100)).toBe(0);
    // Two busy vCPUs: above 100 % of one CPU.
    expect(cpuPercent(0, 400, 2, 100)).toBe(200);
    expect(cpuPercent(1000, 900, 1, 100)).toBeNull();
  });

  it('gives the host CPU use over all CPUs, 0–100 %', () => {
    expect(hostCpuPercent({ busy: 100, total: 1000 }, { busy: 150, total: 1200 })).toBe(25);
    expect(hostCpuPercent({ busy: 100, total: 1000 }, { busy: 100, total: 1000 })).toBeNull();
    expect(hostCpuPercent({ busy: 100, total: 1000 }, { busy: 90, total: 1100 })).toBeNull();
  });
});
