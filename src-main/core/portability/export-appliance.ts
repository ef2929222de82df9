/**
 * `vmdesk export NAME FILE.ova`: an OVA VirtualBox imports: the OVF 1.0 descriptor first, then a
 * SHA256 manifest, then streamOptimized vmdk disks (then, for a machine that boots a kernel
 * directly, its kernel and initrd, which only VMDesk reads back). Disks are converted into a
 * scratch folder beside the target, the archive is written there and linked to its name only when
 * complete: a failed, cancelled or killed export never leaves a partial file under the target name.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { imageInfo } from '../qemu/qemu-img.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { TarWriter, formatManifest, hashRange } from './ova.js';
import { buildOvf, type ExportDisk, type ExportInput } from './ovf.js';
import { convertTo } from './image-source.js';
import { makeClaimedFolder, sweepStale } from './staging.js';

export const EXPORT_SCRATCH_PREFIX = '.vmdesk-export-';

export interface ExportResult {
  file: string;
  bytes: number;
  warnings: string[];
}

/** A file name stem for the archive's members: ASCII, no spaces, short enough for a ustar header. */
export function memberStem(name: string): string {
  const stem = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 40);
  return stem || 'machine';
}

async function requireNewTarget(target: string): Promise<void> {
  if (!target.toLowerCase().endsWith('.ova')) throw new VmdeskError('INVALID_INPUT', `The export file must end in .ova: ${target}`);
  const dir = await fs.stat(path.dirname(target)).catch(() => null);
  if (!dir?.isDirectory()) throw new VmdeskError('NOT_FOUND', `The folder ${path.dirname(target)} does not exist`);
  if (
    await fs.lstat(target).then(
      () => true,
      () => false,
    )
  )
    throw new VmdeskError('ALREADY_EXISTS', `${target} already exists`);
}

/** Export a stopped machine (the caller holds its lock). */
export async function exportAppliance(config: MachineConfig, machineDir: string, file: string, ctx: TaskContext): Promise<ExportResult> {
  const target = path.resolve(file);
  await requireNewTarget(target);
  const parent = path.dirname(target);
  await sweepStale(parent, EXPORT_SCRATCH_PREFIX);
  const warnings: string[] = [];
  if (config.cdrom?.file) warnings.push(`The CD-ROM image ${config.cdrom.file} is not part of the export`);
  if (config.disks.length === 0 && !config.kernelBoot) throw new VmdeskError('INVALID_STATE', `${config.name} has no disk to export`);

  const scratch = await makeClaimedFolder(parent, EXPORT_SCRATCH_PREFIX);
  try {
    const stem = memberStem(config.name);
    const sources = await Promise.all(
      config.disks.map(async (d) => {
        const src = resolveMachinePath(machineDir, d.file);
        return { disk: d, src, info: await imageInfo(src, d.format) };
      }),
    );
    const totalConvert = sources.reduce((s, x) => s + x.info.virtualSize, 0) || 1;
    let converted = 0;
    const disks: Array<ExportDisk & { path: string }> = [];
    for (const [i, s] of sources.entries()) {
      const href = `${stem}-disk${String(i + 1).padStart(3, '0')}.vmdk`;
      const out = path.join(scratch, href);
      ctx.progress((0.7 * converted) / totalConvert, `Converting ${s.disk.id} to vmdk`);
      await convertTo(s.src, out, 'vmdk', {
        what: `${s.disk.id} of ${config.name}`,
        extra: ['-f', s.disk.format, '-o', 'subformat=streamOptimized'],
        signal: ctx.signal,
        onProgress: (f) => ctx.progress((0.7 * (converted + f * s.info.virtualSize)) / totalConvert),
      });
      converted += s.info.virtualSize;
      const size = (await fs.stat(out)).size;
      disks.push({ diskId: `vmdisk${i + 1}`, href, fileSize: size, capacityBytes: s.info.virtualSize, bus: s.disk.bus, path: out });
    }
    let kernelBoot: ExportInput['kernelBoot'] = null;
    const extras: Array<{ href: string; path: string }> = [];
    if (config.kernelBoot) {
      const kernel = resolveMachinePath(machineDir, config.kernelBoot.kernel);
      const initrd = config.kernelBoot.initrd ? resolveMachinePath(machineDir, config.kernelBoot.initrd) : null;
      const kernelHref = `${stem}-vmlinuz`;
      const initrdHref = initrd ? `${stem}-initrd.img` : null;
      extras.push({ href: kernelHref, path: kernel });
      if (initrd && initrdHref) extras.push({ href: initrdHref, path: initrd });
      kernelBoot = {
        kernelHref,
        kernelSize: (await fs.stat(kernel)).size,
        initrdHref,
        initrdSize: initrd ? (await fs.stat(initrd)).size : null,
        cmdline: config.kernelBoot.cmdline,
      };
      warnings.push(
        'The machine boots a kernel directly: the kernel and initrd travel in the OVA, but only VMDesk boots them (VirtualBox imports the disks)',
      );
    }
    const members = [...disks.map((d) => ({ href: d.href, path: d.path })), ...extras];
    const ovfName = `${stem}.ovf`;
    const ovf = Buffer.from(buildOvf({ config, disks, kernelBoot }), 'utf8');
    ctx.progress(0.7, 'Computing digests');
    const digests = [{ file: ovfName, sha256: createHash('sha256').update(ovf).digest('hex') }];
    const sizes = await Promise.all(members.map(async (m) => (await fs.stat(m.path)).size));
    const totalBytes = sizes.reduce((s, n) => s + n, 0) || 1;
    let hashed = 0;
    for (const [i, m] of members.entries()) {
      const sha256 = await hashRange(m.path, 0, sizes[i] ?? 0, 'sha256', {
        signal: ctx.signal,
        onBytes: (n) => {
          hashed += n;
          ctx.progress(0.7 + (0.1 * hashed) / totalBytes);
        },
      });
      digests.push({ file: m.href, sha256 });
    }
    const partial = path.join(scratch, 'partial.ova');
    const handle = await fs.open(partial, 'wx');
    let written = 0;
    try {
      const tar = new TarWriter(handle);
      await tar.addBuffer(ovfName, ovf);
      await tar.addBuffer(`${stem}.mf`, Buffer.from(formatManifest(digests), 'utf8'));
      for (const m of members) {
        ctx.progress(0.8 + (0.2 * written) / totalBytes, `Writing ${m.href}`);
        await tar.addFile(m.href, m.path, {
          signal: ctx.signal,
          onBytes: (n) => {
            written += n;
            ctx.progress(0.8 + (0.2 * written) / totalBytes);
          },
        });
        // A converted disk is no longer needed once archived: the scratch space stays at one copy.
        if (m.path.startsWith(scratch)) await fs.rm(m.path);
      }
      await tar.finish();
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
    // link() fails if the name was taken meanwhile, where rename() would silently replace it.
    await fs.link(partial, target).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new VmdeskError('ALREADY_EXISTS', `${target} was created by someone else during the export`);
      throw err;
    });
    const bytes = (await fs.stat(target)).size;
    ctx.progress(1, 'Exported');
    return { file: target, bytes, warnings };
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
