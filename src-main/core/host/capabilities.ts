/**
 * What this host can run: QEMU and qemu-img, whether KVM really works (a /dev/kvm that exists can
 * still fail, so a throw-away VM is started to prove it), firmware files, CPUs and memory.
 * Probed once per process; the slow part (running QEMU) is also kept on disk, keyed by the QEMU
 * binaries, the KVM device and the boot, so a CLI command does not pay for it every time.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { HostCapabilities } from '../../api/types.js';
import { writeFileAtomic } from '../fs/atomic-file.js';
import { cacheHome } from '../paths.js';

export type { HostCapabilities } from '../../api/types.js';

export interface ProbeOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides `VMDESK_QEMU` and the PATH lookup. */
  qemuBinary?: string;
  /** The KVM device to check; tests point it elsewhere. */
  kvmDevice?: string;
}

const QEMU_SYSTEM = 'qemu-system-x86_64';
const QEMU_IMG = 'qemu-img';
const RUN_TIMEOUT_MS = 5_000;
const MiB = 1024 * 1024;

/** CODE + VARS pairs, best first: Debian's 4M build, its 2M build, then upstream QEMU's install. */
const OVMF_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd'],
  ['/usr/share/OVMF/OVMF_CODE.fd', '/usr/share/OVMF/OVMF_VARS.fd'],
  ['/usr/share/qemu/OVMF_CODE_4M.fd', '/usr/share/qemu/OVMF_VARS_4M.fd'],
  ['/usr/share/qemu/OVMF_CODE.fd', '/usr/share/qemu/OVMF_VARS.fd'],
  ['/usr/share/edk2/ovmf/OVMF_CODE.fd', '/usr/share/edk2/ovmf/OVMF_VARS.fd'],
  ['/usr/share/qemu/edk2-x86_64-code.fd', '/usr/share/qemu/edk2-i386-vars.fd'],
];
const SEABIOS = ['/usr/share/seabios/bios-256k.bin', '/usr/share/qemu/bios-256k.bin'];
const IPXE = ['/usr/lib/ipxe/qemu/efi-virtio.rom', '/usr/share/qemu/efi-virtio.rom'];

interface QemuProbe {
  qemu: HostCapabilities['qemu'];
  kvm: HostCapabilities['accelerators']['kvm'];
  tcg: boolean;
}

async function probeQemu(env: NodeJS.ProcessEnv, opts: ProbeOptions): Promise<QemuProbe> {
  const qemu = await findQemu(env, opts.qemuBinary);
  const [kvm, tcg] = qemu
    ? await Promise.all([probeKvm(qemu.binary, opts.kvmDevice ?? '/dev/kvm'), hasTcg(qemu.binary)])
    : [{ available: false, reason: 'QEMU is not installed' }, false];
  return { qemu, kvm, tcg };
}

/** What the QEMU probe depends on: which binaries (and their versions on disk), the KVM device, the boot. */
async function probeFingerprint(env: NodeJS.ProcessEnv, opts: ProbeOptions): Promise<string> {
  const wanted = opts.qemuBinary ?? env.VMDESK_QEMU;
  const binary = wanted ? path.resolve(wanted) : await which(QEMU_SYSTEM, env);
  const img = env.VMDESK_QEMU_IMG ? path.resolve(env.VMDESK_QEMU_IMG) : await which(QEMU_IMG, env);
  const describe = async (file: string | null): Promise<string> => {
    if (!file) return 'none';
    const stat = await fs.stat(file).catch(() => null);
    return stat ? `${file}:${stat.size}:${stat.mtimeMs}:${stat.ino}:${stat.mode}:${stat.rdev}` : `${file}:missing`;
  };
  const bootId = await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => String(os.uptime()));
  return JSON.stringify([
    PROBE_VERSION,
    await describe(binary),
    await describe(img),
    await describe(opts.kvmDevice ?? '/dev/kvm'),
    bootId.trim(),
    process.getuid?.(),
  ]);
}

/** Bumped whenever the probe itself changes, so an older cached answer is not trusted. */
const PROBE_VERSION = 3;

async function cachedProbeQemu(env: NodeJS.ProcessEnv, opts: ProbeOptions): Promise<QemuProbe> {
  if (opts.kvmDevice || env.VMDESK_NO_PROBE_CACHE) return probeQemu(env, opts);
  const file = path.join(cacheHome(env), 'host-probe.json');
  const fingerprint = await probeFingerprint(env, opts);
  try {
    const saved = JSON.parse(await fs.readFile(file, 'utf8')) as { fingerprint: string; probe: QemuProbe };
    if (saved.fingerprint === fingerprint) return saved.probe;
  } catch {
    // No cache yet, or unreadable: probe.
  }
  const probe = await probeQemu(env, opts);
  await fs
    .mkdir(path.dirname(file), { recursive: true })
    .then(() => writeFileAtomic(file, JSON.stringify({ fingerprint, probe })))
    .catch(() => undefined);
  return probe;
}

export async function probeHost(opts: ProbeOptions = {}): Promise<HostCapabilities> {
  const env = opts.env ?? process.env;
  const [{ qemu, kvm, tcg }, firmware, freeMemoryMiB] = await Promise.all([
    cachedProbeQemu(env, opts),
    findFirmware(),
    availableMemoryMiB(),
  ]);
  return {
    qemu,
    accelerators: { kvm, tcg: { available: tcg } },
    preferredAccel: kvm.available ? 'kvm' : tcg ? 'tcg' : null,
    cpus: os.availableParallelism(),
    memoryMiB: Math.floor(os.totalmem() / MiB),
    freeMemoryMiB,
    firmware,
  };
}

const cache = new Map<string, Promise<HostCapabilities>>();

/** probeHost, once per process for a given QEMU choice (the probe does not change while we run). */
export function getHostCapabilities(opts: ProbeOptions = {}): Promise<HostCapabilities> {
  const env = opts.env ?? process.env;
  const key = JSON.stringify([opts.qemuBinary, env.VMDESK_QEMU, env.VMDESK_QEMU_IMG, env.PATH, opts.kvmDevice]);
  let probe = cache.get(key);
  if (!probe) {
    probe = probeHost(opts);
    probe.catch(() => cache.delete(key));
    cache.set(key, probe);
  }
  return probe;
}

export function requireQemu(caps: HostCapabilities): NonNullable<HostCapabilities['qemu']> {
  if (!caps.qemu) throw new VmdeskError('HOST_UNSUPPORTED', 'QEMU is not installed: run `sudo apt-get install qemu-system-x86 qemu-utils`');
  return caps.qemu;
}

async function findQemu(env: NodeJS.ProcessEnv, override?: string): Promise<HostCapabilities['qemu']> {
  const wanted = override ?? env.VMDESK_QEMU;
  const binary = wanted ? ((await isExecutable(path.resolve(wanted))) ? path.resolve(wanted) : null) : await which(QEMU_SYSTEM, env);
  if (!binary) return null;
  const imgBinary = env.VMDESK_QEMU_IMG ? path.resolve(env.VMDESK_QEMU_IMG) : await which(QEMU_IMG, env);
  if (!imgBinary || !(await isExecutable(imgBinary))) return null;
  const [out, machines] = await Promise.all([runQuiet(binary, ['--version']), runQuiet(binary, ['-machine', 'help'])]);
  const version = /version (\d+\.\d+(?:\.\d+)?)/.exec(out.stdout)?.[1];
  return version ? { binary, version, imgBinary, ...parseMachineTypes(machines.stdout) } : null;
}

/**
 * `-machine help` → the versioned q35 types and what `q35` is an alias of. A machine is pinned to a
 * versioned type (as libvirt does): the bare alias would build a different machine after a QEMU
 * upgrade or on another host, and a migration needs both ends to build the same one.
 */
export function parseMachineTypes(help: string): { machineTypes: string[]; defaultMachineType?: string } {
  const machineTypes = [...help.matchAll(/^(pc-q35-\d+\.\d+)\s/gm)].map((m) => m[1] as string);
  const alias = /^q35\s.*\(alias of (pc-q35-\d+\.\d+)\)/m.exec(help)?.[1];
  return { machineTypes, ...(alias ? { defaultMachineType: alias } : {}) };
}

/** The executable `name` on env's PATH, or null. */
export async function which(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    await fs.access(file, fsConstants.X_OK);
    return stat.isFile();
  } catch {
    return false;
  }
}

async function probeKvm(binary: string, device: string): Promise<HostCapabilities['accelerators']['kvm']> {
  try {
    const handle = await fs.open(device, 'r+');
    await handle.close();
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT')
      return { available: false, reason: `${device} does not exist (no hardware virtualization, or the kvm module is not loaded)` };
    if (errno === 'EACCES' || errno === 'EPERM')
      return { available: false, reason: `no permission to open ${device} (add your user to the kvm group)` };
    return { available: false, reason: `cannot open ${device}: ${(err as Error).message}` };
  }
  // The device opens: prove that QEMU can run a vCPU on it, with the CPU model machines get. Creating
  // a VM is not enough: under nested virtualization KVM may create one and then fail to set the vCPU's
  // MSRs when it first runs ("failed to set MSR 0x10a"), so the probe machine runs for a moment.
  const qmp = ['{"execute":"qmp_capabilities"}\n{"execute":"cont"}\n', '{"execute":"query-status"}\n{"execute":"quit"}\n'];
  const args = ['-machine', 'q35', '-accel', 'kvm', '-cpu', 'host', '-m', '16', '-S', '-nodefaults', '-no-user-config', '-display', 'none'];
  const out = await runQuiet(binary, [...args, '-qmp', 'stdio'], qmp);
  if (out.code === 0 && /"status":\s*"running"/.test(out.stdout) && out.stdout.includes('"SHUTDOWN"')) return { available: true };
  // QEMU's own error line ("error: failed to set MSR ..."), rather than an assertion that follows it.
  const lines = out.stderr.trim().split('\n').filter(Boolean);
  const why = (lines.find((l) => /\berror: /.test(l)) ?? lines.at(-1))?.replace(/^.*?qemu-system-x86_64: (error: )?/, '');
  return { available: false, reason: why || out.error || `QEMU exited with code ${String(out.code)}` };
}

async function hasTcg(binary: string): Promise<boolean> {
  const out = await runQuiet(binary, ['-accel', 'help']);
  return out.stdout.split('\n').some((line) => line.trim() === 'tcg');
}

async function findFirmware(): Promise<HostCapabilities['firmware']> {
  const exists = (file: string): Promise<boolean> =>
    fs.access(file, fsConstants.R_OK).then(
      () => true,
      () => false,
    );
  const anyExists = async (files: string[]): Promise<boolean> => (await Promise.all(files.map(exists))).some(Boolean);
  let ovmfCode: string | null = null;
  let ovmfVars: string | null = null;
  for (const [code, vars] of OVMF_PAIRS) {
    if ((await exists(code)) && (await exists(vars))) {
      [ovmfCode, ovmfVars] = [code, vars];
      break;
    }
  }
  const [seabios, ipxe] = await Promise.all([anyExists(SEABIOS), anyExists(IPXE)]);
  return { ovmfCode, ovmfVars, seabios, ipxe };
}

/** MemAvailable (what can be allocated without swapping), not MemFree, which ignores the page cache. */
async function availableMemoryMiB(): Promise<number> {
  const meminfo = await fs.readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kib = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1];
  return Math.floor(kib ? Number(kib) / 1024 : os.freemem() / MiB);
}

interface QuietRun {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Pause between the chunks of a probe's stdin: time for a started vCPU to fail. */
const STDIN_CHUNK_GAP_MS = 300;

/**
 * Runs a probe command with a timeout; never throws, a failure is part of the answer. Stdin given as
 * several chunks is written one chunk at a time, STDIN_CHUNK_GAP_MS apart.
 */
function runQuiet(binary: string, args: string[], stdin?: string | string[]): Promise<QuietRun> {
  return new Promise((resolve) => {
    if (stdin === undefined) {
      execFile(binary, args, { timeout: RUN_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr, ...(err && code === null && { error: err.message }) });
      });
      return;
    }
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined); // QEMU may exit before reading its stdin
    const chunks = typeof stdin === 'string' ? [stdin] : stdin;
    const feed = (i: number): void => {
      if (i === chunks.length - 1) {
        child.stdin.end(chunks[i]);
        return;
      }
      child.stdin.write(chunks[i] ?? '');
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) feed(i + 1);
      }, STDIN_CHUNK_GAP_MS).unref();
    };
    feed(0);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, error: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ...(signal && { error: `QEMU did not finish within ${RUN_TIMEOUT_MS} ms (${signal})` }) });
    });
  });
}
