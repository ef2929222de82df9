/**
 * `vmdesk import FILE`: an OVA (tar), an OVF descriptor with its files beside it, or a plain disk
 * image becomes a new machine. Everything is checked before a byte is converted: the archive's
 * entries (flat names, no links, nothing past the end), the manifest's digests, each image's
 * format, references and size. The machine is built in a staging folder by createMachine and
 * registered only once complete, so a failure, a cancel or a kill leaves nothing registered.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { ApplianceSummary } from '../../api/portability.js';
import { MIN_MEMORY_MIB, type DiskConfig, type MachineConfig } from '../../api/machine-config.js';
import type { CreateMachineInput } from '../../api/operations.js';
import type { HostCapabilities } from '../host/capabilities.js';
import type { Library } from '../library/library.js';
import { createMachine, type CreateResult } from '../machines/create-machine.js';
import { requireHostFile } from '../fs/host-file.js';
import { DISKS_DIR } from '../paths.js';
import { MAX_VIRTUAL_BYTES, inspectForeignImage } from '../storage/foreign-image.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { BLOCK, MAX_SMALL_ENTRY, hashRange, parseManifest, readEntry, readTarIndex, safeEntryName } from './ova.js';
import { machineNameFrom, parseOvf, type OvfAppliance, type OvfFile } from './ovf.js';
import { convertTo, imageSpec, rangeInfo, requireSelfContained, type ImageRange } from './image-source.js';
import { claimFolder, releaseFolder, sweepStale } from './staging.js';

export interface ImportOptions {
  name?: string;
  /** Backing files of a plain disk image the user confirmed. */
  trustBacking?: string[];
}

export type SourceKind = 'ova' | 'ovf' | 'disk';

/** What a file is, from its content (never its extension): a tar, an XML descriptor, or else a disk image. */
/** A file named like an appliance that is not one is refused, not taken for a raw disk image. */
function requireKindOfName(file: string, kind: SourceKind): void {
  const ext = path.extname(file).toLowerCase();
  if ((ext === '.ova' && kind !== 'ova') || (ext === '.ovf' && kind !== 'ovf'))
    throw new VmdeskError(
      'INVALID_INPUT',
      `${file} is named ${ext} but is not ${ext === '.ova' ? 'an OVA (a tar archive)' : 'an OVF descriptor (XML)'}`,
    );
}

export async function sourceKind(file: string): Promise<SourceKind> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(BLOCK);
    const { bytesRead } = await handle.read(head, 0, BLOCK, 0);
    if (bytesRead === BLOCK && head.subarray(257, 262).toString('latin1') === 'ustar') return 'ova';
    const start = head
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (start.startsWith('<?xml') || /^<([\w]+:)?Envelope[\s>]/.test(start)) return 'ovf';
    return 'disk';
  } finally {
    await handle.close();
  }
}

interface Package {
  appliance: OvfAppliance;
  /** Where each referenced file's bytes are. */
  ranges: Map<string, ImageRange>;
  warnings: string[];
}

/** Read and check an OVA or OVF package: descriptor, manifest digests, referenced files. */
export async function openPackage(file: string, kind: 'ova' | 'ovf', ctx: TaskContext): Promise<Package> {
  const warnings: string[] = [];
  const ranges = new Map<string, ImageRange>();
  let descriptor: Buffer;
  let descriptorName: string;
  let manifest: { name: string; text: string } | null = null;
  if (kind === 'ova') {
    const entries = await readTarIndex(file);
    const first = entries[0];
    if (!first || !first.name.toLowerCase().endsWith('.ovf')) {
      throw new VmdeskError('INVALID_INPUT', `${file} is not an OVA: its first file must be the .ovf descriptor`);
    }
    descriptor = await readEntry(file, first);
    descriptorName = first.name;
    const mf = entries.find((e) => e.name.toLowerCase().endsWith('.mf'));
    if (mf) manifest = { name: mf.name, text: (await readEntry(file, mf)).toString('utf8') };
    for (const e of entries) ranges.set(e.name, { path: file, offset: e.offset, size: e.size });
    if (entries.some((e) => e.name.toLowerCase().endsWith('.cert')))
      warnings.push('The appliance is signed; VMDesk checks its manifest but not its certificate');
  } else {
    const stat = await fs.stat(file);
    if (stat.size > MAX_SMALL_ENTRY) throw new VmdeskError('INVALID_INPUT', `${file} is too large for an OVF descriptor`);
    descriptor = await fs.readFile(file);
    descriptorName = path.basename(file);
    ranges.set(descriptorName, { path: file, offset: 0, size: stat.size });
    const mfPath = file.replace(/\.ovf$/i, '') + '.mf';
    const mfText = mfPath !== file ? await fs.readFile(mfPath, 'utf8').catch(() => null) : null;
    if (mfText !== null) manifest = { name: path.basename(mfPath), text: mfText };
  }
  const appliance = parseOvf(descriptor.toString('utf8'));
  warnings.push(...appliance.warnings);

  const needed = new Map<string, OvfFile>();
  for (const d of appliance.disks) if (d.file) needed.set(d.file.href, d.file);
  if (appliance.kernelBoot) {
    needed.set(appliance.kernelBoot.kernel.href, appliance.kernelBoot.kernel);
    if (appliance.kernelBoot.initrd) needed.set(appliance.kernelBoot.initrd.href, appliance.kernelBoot.initrd);
  }
  for (const [href, f] of [...needed]) {
    // Members are looked up by their flat name (`./x` is `x`).
    needed.delete(href);
    needed.set(safeEntryName(href, kind === 'ova' ? file : path.basename(file)), f);
  }
  for (const [name, f] of needed) {
    if (kind === 'ovf' && !ranges.has(name)) {
      const p = path.join(path.dirname(file), name);
      const st = await fs.lstat(p).catch(() => null);
      if (!st) throw new VmdeskError('NOT_FOUND', `The appliance's file ${name} is missing beside ${descriptorName}`);
      if (!st.isFile()) throw new VmdeskError('INVALID_INPUT', `The appliance's file ${name} is not a regular file (links are refused)`);
      ranges.set(name, { path: p, offset: 0, size: st.size });
    }
    const range = ranges.get(name);
    if (!range) throw new VmdeskError('INVALID_INPUT', `${file} does not contain ${name}, which its descriptor refers to`);
    if (f.size !== null && f.size !== range.size) {
      throw new VmdeskError(
        'INVALID_INPUT',
        `${name} is ${range.size} bytes but the descriptor says ${f.size}: the appliance is damaged or truncated`,
      );
    }
  }

  if (!manifest) warnings.push('The appliance has no manifest: its files could not be checked against digests');
  else {
    const lines = parseManifest(manifest.text, manifest.name);
    const listed = new Map(lines.map((l) => [l.file, l]));
    const toCheck = [descriptorName, ...needed.keys()];
    for (const name of toCheck) {
      if (!listed.has(name)) throw new VmdeskError('INVALID_INPUT', `The manifest ${manifest.name} does not cover ${name}: refused`);
    }
    const total = toCheck.reduce((s, n) => s + (ranges.get(n)?.size ?? 0), 0) || 1;
    let done = 0;
    for (const name of toCheck) {
      const line = listed.get(name);
      const range = ranges.get(name);
      if (!line || !range) continue;
      ctx.progress((0.3 * done) / total, `Checking ${name}`);
      const digest = await hashRange(range.path, range.offset, range.size, line.algorithm, {
        signal: ctx.signal,
        onBytes: (n) => {
          done += n;
          ctx.progress((0.3 * done) / total);
        },
      });
      if (digest !== line.digest) {
        throw new VmdeskError(
          'INVALID_INPUT',
          `${name} does not match its ${line.algorithm.toUpperCase()} digest in ${manifest.name}: the appliance is damaged or was altered`,
        );
      }
    }
  }
  return { appliance, ranges, warnings };
}

async function copyRange(range: ImageRange, target: string, signal: AbortSignal): Promise<void> {
  const input = await fs.open(range.path, 'r');
  const output = await fs.open(target, 'wx');
  try {
    const buf = Buffer.alloc(Math.min(4 * 1024 * 1024, Math.max(1, range.size)));
    let done = 0;
    while (done < range.size) {
      if (signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
      const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, range.size - done), range.offset + done);
      if (bytesRead === 0) throw new VmdeskError('INVALID_INPUT', `${range.path} is truncated`);
      await output.write(buf, 0, bytesRead);
      done += bytesRead;
    }
  } finally {
    await input.close();
    await output.close();
  }
}

async function importPackage(
  library: Library,
  host: HostCapabilities,
  file: string,
  kind: 'ova' | 'ovf',
  opts: ImportOptions,
  ctx: TaskContext,
): Promise<CreateResult> {
  const pkg = await openPackage(file, kind, ctx);
  const { appliance, ranges } = pkg;
  // Every image is checked before anything is converted.
  const checked: Array<{ diskId: string; source: string | null; sizeBytes: number; bus: DiskConfig['bus'] }> = [];
  for (const d of appliance.disks) {
    if (!d.file) {
      if (d.capacityBytes <= 0 || d.capacityBytes > MAX_VIRTUAL_BYTES)
        throw new VmdeskError('INVALID_INPUT', `Disk ${d.diskId} has an impossible capacity`);
      checked.push({ diskId: d.diskId, source: null, sizeBytes: d.capacityBytes, bus: d.bus });
      continue;
    }
    const range = ranges.get(safeEntryName(d.file.href, file)) as ImageRange;
    const what = `The disk image ${d.file.href}`;
    const info = await rangeInfo(range, d.format, what);
    requireSelfContained(info, what, d.capacityBytes);
    checked.push({ diskId: d.diskId, source: imageSpec(range, d.format), sizeBytes: info.virtualSize, bus: d.bus });
  }
  // An appliance made on a bigger host still imports; it gets half of this host's memory.
  let memoryMiB = appliance.memoryMiB;
  if (memoryMiB > host.memoryMiB) {
    memoryMiB = Math.max(MIN_MEMORY_MIB, Math.floor(host.memoryMiB / 2));
    pkg.warnings.push(`The appliance asks for ${appliance.memoryMiB} MiB of memory, more than this host has: it gets ${memoryMiB} MiB`);
  }
  const input: CreateMachineInput = {
    name: opts.name ?? appliance.name,
    osType: appliance.osType,
    cpus: appliance.cpus,
    memoryMiB,
    firmware: appliance.firmware,
    network: appliance.nics.length > 0 ? 'nat' : 'none',
    bootOrder: ['disk', 'cdrom'],
    notes: appliance.annotation || `Imported from ${path.basename(file)}`,
  };
  const total = checked.reduce((s, c) => s + (c.source ? c.sizeBytes : 0), 0) || 1;
  const result = await createMachine(library, host, input, ctx, {
    fill: async (staging, fillCtx) => {
      await claimFolder(staging);
      const disks: DiskConfig[] = [];
      let done = 0;
      for (const [i, c] of checked.entries()) {
        const id = `disk${i}`;
        const rel = path.join(DISKS_DIR, `${id}.qcow2`);
        const target = path.join(staging, rel);
        if (c.source) {
          fillCtx.progress(0.3 + (0.7 * done) / total, `Converting disk ${i + 1} of ${checked.length}`);
          await convertTo(c.source, target, 'qcow2', {
            what: `disk ${c.diskId}`,
            signal: fillCtx.signal,
            onProgress: (f) => fillCtx.progress(0.3 + (0.7 * (done + f * c.sizeBytes)) / total),
          });
          done += c.sizeBytes;
        } else {
          await convertTo(`json:${JSON.stringify({ driver: 'null-co', size: c.sizeBytes, 'read-zeroes': true })}`, target, 'qcow2', {
            what: `new disk ${c.diskId}`,
            signal: fillCtx.signal,
          });
        }
        disks.push({ id, file: rel, format: 'qcow2', bus: c.bus, readOnly: false });
      }
      let kernelBoot: MachineConfig['kernelBoot'] | undefined;
      if (appliance.kernelBoot) {
        await fs.mkdir(path.join(staging, 'boot'));
        const k = appliance.kernelBoot;
        await copyRange(ranges.get(k.kernel.href) as ImageRange, path.join(staging, 'boot', 'vmlinuz'), fillCtx.signal);
        if (k.initrd) await copyRange(ranges.get(k.initrd.href) as ImageRange, path.join(staging, 'boot', 'initrd.img'), fillCtx.signal);
        kernelBoot = { kernel: 'boot/vmlinuz', initrd: k.initrd ? 'boot/initrd.img' : null, cmdline: k.cmdline };
      }
      return { disks, nicModels: appliance.nics, ...(kernelBoot ? { kernelBoot } : {}) };
    },
  });
  await releaseFolder(result.dir);
  return { ...result, warnings: [...pkg.warnings, ...result.warnings] };
}

/** Import an appliance or a disk image as a new machine (the caller runs it as a task). */
export async function importAppliance(
  library: Library,
  host: HostCapabilities,
  file: string,
  opts: ImportOptions,
  ctx: TaskContext,
): Promise<CreateResult> {
  const source = path.resolve(file);
  await requireHostFile(source, 'file to import');
  await library.ensure();
  await sweepStale(library.machinesDir, '.staging-');
  const kind = await sourceKind(source);
  requireKindOfName(source, kind);
  if (kind !== 'disk') return importPackage(library, host, source, kind, opts, ctx);
  // A plain disk image: inspected as the hostile input it is (createMachine inspects it again when it copies it).
  await inspectForeignImage(source, { what: 'file to import', trustedBacking: opts.trustBacking ?? [] });
  const name = opts.name ?? machineNameFrom(path.basename(source).replace(/\.[^.]*$/, ''));
  const claim = { fill: async (staging: string) => (await claimFolder(staging), { disks: [] }) };
  const result = await createMachine(
    library,
    host,
    { name, importDisk: source, trustBacking: opts.trustBacking ?? [], notes: `Imported from ${path.basename(source)}` },
    ctx,
    claim,
  );
  await releaseFolder(result.dir);
  return result;
}

/** What importing `file` would make, from its descriptor or image header only (fast: nothing is hashed or copied). */
export async function inspectAppliance(file: string): Promise<ApplianceSummary> {
  const source = path.resolve(file);
  await requireHostFile(source, 'file to import');
  const kind = await sourceKind(source);
  requireKindOfName(source, kind);
  if (kind === 'disk') {
    const info = await inspectForeignImage(source, { what: 'file to import' });
    return {
      kind,
      name: machineNameFrom(path.basename(source).replace(/\.[^.]*$/, '')),
      osType: 'linux',
      cpus: 1,
      memoryMiB: 512,
      firmware: 'bios',
      disks: [{ format: info.format, capacityBytes: info.virtualSize }],
      nics: 1,
      kernelBoot: false,
      notes: '',
      warnings: [],
    };
  }
  let xml: Buffer;
  if (kind === 'ova') {
    const first = (await readTarIndex(source))[0];
    if (!first || !first.name.toLowerCase().endsWith('.ovf')) {
      throw new VmdeskError('INVALID_INPUT', `${source} is not an OVA: its first file must be the .ovf descriptor`);
    }
    xml = await readEntry(source, first);
  } else xml = await fs.readFile(source);
  const a = parseOvf(xml.toString('utf8'));
  return {
    kind,
    name: a.name,
    osType: a.osType,
    cpus: a.cpus,
    memoryMiB: a.memoryMiB,
    firmware: a.firmware,
    disks: a.disks.map((d) => ({ format: d.format, capacityBytes: d.capacityBytes })),
    nics: a.nics.length,
    kernelBoot: a.kernelBoot !== null,
    notes: a.annotation,
    warnings: a.warnings,
  };
}
