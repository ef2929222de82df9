/**
 * vCPU pinning: the vCPU threads QEMU reports (QMP query-cpus-fast), the host CPUs each may run on
 * (/proc/PID/task/TID/status), and new affinities set with util-linux `taskset` (Node has no
 * sched_setaffinity); only numbers ever reach its argv.
 */
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import { VmdeskError } from '../../api/errors.js';
import type { CpuPin } from '../../api/resources.js';

export interface VcpuThread {
  vcpu: number;
  threadId: number;
}

/** A kernel CPU list (`0-3,8,10-11`) as numbers; throws on anything else. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') return [];
  for (const part of trimmed.split(',')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part.trim());
    if (!m) throw new Error(`"${part}" is not a CPU list entry`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`"${part}" is not a CPU range`);
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** `[0,1,2,5]` → `0-2,5`. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export async function onlineCpus(): Promise<number[]> {
  const text = await fsp.readFile('/sys/devices/system/cpu/online', 'utf8').catch((err: unknown) => {
    throw new VmdeskError('HOST_UNSUPPORTED', `Cannot read the host's CPUs (/sys/devices/system/cpu/online): ${(err as Error).message}`);
  });
  return parseCpuList(text);
}

/** Each pin to a host CPU that is not online here, in words. */
export function missingHostCpus(pins: readonly CpuPin[], online: readonly number[]): string[] {
  return pins
    .filter((p) => !online.includes(p.hostCpu))
    .map((p) => `vCPU ${p.vcpu} is pinned to host CPU ${p.hostCpu}, which this host does not have (its CPUs: ${formatCpuList(online)})`);
}

/** query-cpus-fast's answer as vCPU → thread. */
export function parseVcpuThreads(reply: unknown): VcpuThread[] {
  if (!Array.isArray(reply)) throw new VmdeskError('QEMU_FAILED', 'QEMU did not list its vCPUs (query-cpus-fast)');
  return reply.map((entry: unknown) => {
    const e = entry as { 'cpu-index'?: unknown; 'thread-id'?: unknown };
    if (!Number.isInteger(e['cpu-index']) || !Number.isInteger(e['thread-id']))
      throw new VmdeskError('QEMU_FAILED', 'QEMU listed a vCPU without its index or thread id (query-cpus-fast)');
    return { vcpu: e['cpu-index'] as number, threadId: e['thread-id'] as number };
  });
}

export async function vcpuThreads(query: (command: string) => Promise<unknown>): Promise<VcpuThread[]> {
  return parseVcpuThreads(await query('query-cpus-fast'));
}

/** The host CPUs thread `tid` of process `pid` may run on now. */
export async function threadAffinity(pid: number, tid: number): Promise<number[]> {
  const status = await fsp.readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => {
    throw new VmdeskError('INVALID_STATE', `QEMU's thread ${tid} is gone (did the machine stop?)`);
  });
  const list = /^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1];
  if (list === undefined) throw new VmdeskError('HOST_UNSUPPORTED', `The kernel does not say where thread ${tid} may run`);
  return parseCpuList(list);
}

/** Thread `tid` limited to `cpus`, through `taskset -p -c LIST TID`. */
export async function setThreadAffinity(tid: number, cpus: readonly number[]): Promise<void> {
  if (!Number.isInteger(tid) || tid <= 0 || cpus.length === 0 || cpus.some((c) => !Number.isInteger(c) || c < 0))
    throw new VmdeskError('INTERNAL', `Refusing an affinity of [${cpus.join(',')}] for thread ${tid}`);
  const args = ['-p', '-c', formatCpuList(cpus), String(tid)];
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ code: null, stderr: e.code === 'ENOENT' ? 'taskset is not installed (apt-get install util-linux)' : e.message }),
    );
    child.on('close', (c) => resolve({ code: c, stderr: err }));
  });
  if (code !== 0)
    throw new VmdeskError(
      'HOST_UNSUPPORTED',
      `Cannot pin thread ${tid} to host CPU ${formatCpuList(cpus)}: ${stderr.trim().split('\n').pop() ?? `taskset exited ${code}`}`,
    );
}

/**
 * The affinity each vCPU thread gets: its pinned host CPU, or `unpinned` for the others. Single-
 * threaded TCG runs every vCPU on one thread: pins that disagree about a thread are refused.
 */
export function affinityPlan(threads: readonly VcpuThread[], pins: readonly CpuPin[], unpinned: readonly number[]): Map<number, number[]> {
  const plan = new Map<number, number[]>();
  const pinnedBy = new Map<number, CpuPin>();
  for (const t of threads) {
    const pin = pins.find((p) => p.vcpu === t.vcpu);
    const earlier = pinnedBy.get(t.threadId);
    if (pin && earlier && earlier.hostCpu !== pin.hostCpu)
      throw new VmdeskError(
        'INVALID_INPUT',
        `vCPUs ${earlier.vcpu} and ${pin.vcpu} run on one QEMU thread (single-threaded TCG): pin them to the same host CPU`,
      );
    if (pin) {
      pinnedBy.set(t.threadId, pin);
      plan.set(t.threadId, [pin.hostCpu]);
    } else if (!plan.has(t.threadId)) plan.set(t.threadId, [...unpinned]);
  }
  // A pin of a vCPU the running QEMU lacks (more vCPUs asked for its next start) waits for that start.
  return plan;
}
