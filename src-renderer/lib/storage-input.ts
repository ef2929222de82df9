/**
 * Inputs of the storage, clone, move and portability dialogs: sizes typed as "20G", host paths typed
 * by hand (a browser cannot pick one), and the media list arranged by backing chain.
 */
import type { ZodType } from 'zod';
import { hostPathSchema, machineNameSchema } from '../../src-main/api/machine-config';
import { absolutePathSchema } from '../../src-main/api/portability';
import type { MediumInfo } from '../../src-main/api/storage';
import { t, type MessageKey } from '../i18n';
import { localizeApiMessage } from '../i18n/core-messages';
import { fixed } from '../i18n/format';

const UNITS: Record<string, number> = { '': 1024 ** 3, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "20G", "512M", "1.5 TiB", "64" (GiB) → bytes, or null when it is not a size. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m?.[1]) return null;
  const unit = UNITS[(m[2] ?? '').toUpperCase()];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return bytes > 0 ? bytes : null;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : fixed(v, v >= 100 || Number.isInteger(v) ? 0 : 1)} ${units[i]}`;
}

/** Disks are whole MiB to QEMU's liking; the core refuses more than 64 TiB. */
export function sizeError(text: string, minBytes = 1024 ** 2): string | null {
  const bytes = parseSize(text);
  if (bytes === null) return t('dialogs.size.notASize');
  if (bytes < minBytes) return t('dialogs.size.atLeast', { size: formatBytes(minBytes) });
  if (bytes > 64 * 1024 ** 4) return t('dialogs.size.atMost', { size: formatBytes(64 * 1024 ** 4) });
  return null;
}

function firstIssue(schema: ZodType, value: unknown): string | null {
  const r = schema.safeParse(value);
  return r.success ? null : localizeApiMessage(r.error.issues[0]?.message ?? t('errors.invalidValue'));
}

/** What a path field asks for, in the sentence "Type the … on the host". */
export type PathWhat = 'path' | 'folder' | 'sourceDevice' | 'sourceFile' | 'targetDevice' | 'targetOva' | 'backupFolder';
const PATH_MISSING: Record<PathWhat, MessageKey> = {
  path: 'dialogs.path.path',
  folder: 'dialogs.path.folder',
  sourceDevice: 'dialogs.path.sourceDevice',
  sourceFile: 'dialogs.path.sourceFile',
  targetDevice: 'dialogs.path.targetDevice',
  targetOva: 'dialogs.path.targetOva',
  backupFolder: 'dialogs.path.backupFolder',
};

/** A host path typed by hand; the portability operations want it absolute. */
export function hostPathError(value: string, what: PathWhat = 'path'): string | null {
  if (value.trim() === '') return t(PATH_MISSING[what]);
  return firstIssue(hostPathSchema, value) ?? firstIssue(absolutePathSchema, value);
}

/** A new machine name: valid as a folder name and not taken. */
export function newNameError(name: string, taken: ReadonlySet<string>): string | null {
  const issue = firstIssue(machineNameSchema, name);
  if (issue) return issue;
  return taken.has(name) ? t('wizard.nameTaken', { name }) : null;
}

/** The first free "NAME Clone", "NAME Clone 2"… (German: "NAME Klon"…) */
export function defaultCloneName(name: string, taken: ReadonlySet<string>): string {
  const base = t('dialogs.clone.defaultName', { name }).slice(0, 64).trimEnd();
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`;
}

/** Moving into the machine's own folder (or under it) is refused by the core: say so as it is typed. */
export function moveTargetError(target: string, machineDir: string): string | null {
  const e = hostPathError(target, 'folder');
  if (e) return e;
  const to = target.replace(/\/+$/, '') || '/';
  const dir = machineDir.replace(/\/+$/, '');
  if (to === dir || to.startsWith(`${dir}/`)) return t('dialogs.move.insideItself');
  if (to === dir.slice(0, dir.lastIndexOf('/'))) return t('dialogs.move.alreadyThere');
  return null;
}

/** A target path that looks like a block device (V2P destroys its content: ask for an explicit yes). */
export function looksLikeBlockDevice(path: string): boolean {
  return /^\/dev\//.test(path);
}

export interface MediumRow extends MediumInfo {
  key: string;
  name: string;
  children: MediumRow[];
}

/** An image named by where it lives: "web/disks/disk0.qcow2" inside the library, else its file name. */
export function mediumName(file: string): string {
  const i = file.lastIndexOf('/machines/');
  return i >= 0 ? file.slice(i + '/machines/'.length) : (file.split('/').pop() ?? file);
}

/** The media as a forest: each image under the image it is backed by (snapshots and linked clones). */
export function mediaTree(media: readonly MediumInfo[]): MediumRow[] {
  const rows = new Map<string, MediumRow>();
  for (const m of media) rows.set(m.file, { ...m, key: m.file, name: mediumName(m.file), children: [] });
  const roots: MediumRow[] = [];
  for (const row of rows.values()) {
    const parent = row.backingFile ? rows.get(row.backingFile) : undefined;
    if (parent && parent !== row) parent.children.push(row);
    else roots.push(row);
  }
  const sort = (list: MediumRow[]): MediumRow[] => {
    list.sort((a, b) => a.file.localeCompare(b.file));
    list.forEach((r) => sort(r.children));
    return list;
  };
  return sort(roots);
}

export function usersLabel(m: MediumInfo): string {
  if (m.users.length === 0) return t('dialogs.media.notAttached');
  return m.users
    .map((u) =>
      u.use === 'snapshot' && u.snapshot
        ? t('dialogs.media.usedBySnapshot', { name: u.name, snapshot: u.snapshot })
        : u.use === 'backing'
          ? t('dialogs.media.usedAsBase', { name: u.name, device: u.device })
          : t('dialogs.media.usedAs', { name: u.name, device: u.device }),
    )
    .join(', ');
}
