/**
 * The machine library: library.json lists registered machine folders (a machine may live anywhere,
 * like VirtualBox's "Add"); each folder holds its own machine.json. Every write is atomic and made
 * under a lock, so several cores (app, server, CLI) can share one library.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { VmdeskError, toErrorShape, type ErrorShape } from '../../api/errors.js';
import { CONFIG_VERSION, machineConfigSchema, type MachineConfig } from '../../api/machine-config.js';
import { parseInput } from '../../api/validation.js';
import { readJson, writeJsonAtomic } from '../fs/atomic-file.js';
import { withLock } from '../fs/lock-file.js';
import { LIBRARY_FILE, MACHINE_CONFIG, MACHINE_CONFIG_BACKUP, MACHINE_LOCK, MACHINES_DIR, libraryHome } from '../paths.js';

const LIBRARY_VERSION = 1;
const libraryFileSchema = z.object({
  version: z.literal(LIBRARY_VERSION),
  machines: z.array(z.object({ uuid: z.uuid(), dir: z.string().min(1) })),
});
type LibraryFile = z.infer<typeof libraryFileSchema>;
export type LibraryEntry = LibraryFile['machines'][number];

export interface MachineRecord {
  uuid: string;
  dir: string;
  /** null when machine.json is missing or invalid; `error` then says why, `broken` what can be done. */
  config: MachineConfig | null;
  error?: ErrorShape;
  broken?: BrokenMachine;
}

/** A registered machine whose machine.json cannot be used, and its previous version if that is whole. */
export interface BrokenMachine {
  reason: string;
  /** machine.json.bak when it holds a valid configuration of this machine (same uuid). */
  backup: string | null;
  /** The name the backup gives it, else its folder's name. */
  name: string;
}

/** What is wrong with an unreadable machine, and whether its backup can take its place. */
async function diagnose(entry: LibraryEntry, err: unknown): Promise<BrokenMachine> {
  const reason = toErrorShape(err).message;
  const backup = path.join(entry.dir, MACHINE_CONFIG_BACKUP);
  try {
    const config = parseInput(machineConfigSchema, migrateConfig(await readJson(backup)), 'backup');
    if (config.uuid === entry.uuid) return { reason, backup, name: config.name };
  } catch {
    // No usable backup.
  }
  return { reason, backup: null, name: path.basename(entry.dir) };
}

/** The message for any operation on a broken machine: what is wrong, and the way back. */
export function brokenMessage(broken: BrokenMachine): string {
  const way = broken.backup
    ? `its previous configuration is kept in ${broken.backup}: restore it with \`vmdesk repair ${broken.name} --from-backup\``
    : 'it has no usable backup (machine.json.bak)';
  return `${broken.name} is broken (${broken.reason}); ${way}`;
}

/** Upgrade older machine.json versions in place before validation (none yet: v1 is the first). */
function migrateConfig(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const version = (raw as { version?: unknown }).version;
  if (version === undefined) return { ...raw, version: CONFIG_VERSION };
  return raw;
}

export async function loadMachineConfig(dir: string): Promise<MachineConfig> {
  const file = path.join(dir, MACHINE_CONFIG);
  let raw: unknown;
  try {
    raw = await readJson(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new VmdeskError('NOT_FOUND', `No machine at ${dir} (${MACHINE_CONFIG} is missing)`);
    throw new VmdeskError('IO', `Cannot read ${file}: ${(err as Error).message}`);
  }
  return parseInput(machineConfigSchema, migrateConfig(raw), `machine configuration ${file}`);
}

export async function saveMachineConfig(dir: string, config: MachineConfig): Promise<void> {
  const valid = parseInput(machineConfigSchema, config, 'machine configuration');
  await writeJsonAtomic(path.join(dir, MACHINE_CONFIG), valid, path.join(dir, MACHINE_CONFIG_BACKUP));
}

export function machineLockFile(dir: string): string {
  return path.join(dir, MACHINE_LOCK);
}

export class Library {
  readonly home: string;

  constructor(home: string = libraryHome()) {
    this.home = path.resolve(home);
  }

  get file(): string {
    return path.join(this.home, LIBRARY_FILE);
  }

  get machinesDir(): string {
    return path.join(this.home, MACHINES_DIR);
  }

  private get lockFile(): string {
    return path.join(this.home, 'library.lock');
  }

  async ensure(): Promise<void> {
    await fs.mkdir(this.machinesDir, { recursive: true });
  }

  async entries(): Promise<LibraryEntry[]> {
    let raw: unknown;
    try {
      raw = await readJson(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new VmdeskError('IO', `The library file ${this.file} is unreadable: ${(err as Error).message}`);
    }
    return parseInput(libraryFileSchema, raw, `library file ${this.file}`).machines;
  }

  async list(): Promise<MachineRecord[]> {
    const entries = await this.entries();
    return Promise.all(
      entries.map(async (entry) => {
        try {
          return { ...entry, config: await loadMachineConfig(entry.dir) };
        } catch (err) {
          return { ...entry, config: null, error: toErrorShape(err), broken: await diagnose(entry, err) };
        }
      }),
    );
  }

  /** By uuid, or by name (names are unique in a library). */
  async find(nameOrUuid: string): Promise<MachineRecord & { config: MachineConfig }> {
    const records = await this.list();
    const match = this.match(records, nameOrUuid);
    if (!match)
      throw new VmdeskError('NOT_FOUND', `No machine named "${nameOrUuid.length > 80 ? `${nameOrUuid.slice(0, 80)}…` : nameOrUuid}"`);
    if (!match.config)
      throw match.broken
        ? new VmdeskError('INVALID_STATE', brokenMessage(match.broken), { broken: match.broken })
        : new VmdeskError(match.error?.code ?? 'IO', match.error?.message ?? `Machine ${nameOrUuid} is unreadable`);
    return { ...match, config: match.config };
  }

  /** By uuid, by name, or by the name a broken machine's backup (or folder) gives it. */
  match(records: MachineRecord[], nameOrUuid: string): MachineRecord | undefined {
    return (
      records.find((r) => r.uuid === nameOrUuid) ??
      records.find((r) => r.config?.name === nameOrUuid) ??
      records.find((r) => !r.config && r.broken?.name === nameOrUuid)
    );
  }

  private async update(mutate: (file: LibraryFile) => void): Promise<void> {
    await this.ensure();
    await withLock(this.lockFile, 'updating the library', async () => {
      const file: LibraryFile = { version: LIBRARY_VERSION, machines: await this.entries() };
      mutate(file);
      await writeJsonAtomic(this.file, file);
    });
  }

  /** Register a machine folder; names and uuids stay unique across the library. */
  async register(entry: LibraryEntry, name: string): Promise<void> {
    const records = await this.list();
    if (records.some((r) => r.uuid === entry.uuid))
      throw new VmdeskError('ALREADY_EXISTS', `A machine with uuid ${entry.uuid} is already registered`);
    if (records.some((r) => r.config?.name === name)) throw new VmdeskError('ALREADY_EXISTS', `A machine named "${name}" already exists`);
    await this.update((file) => {
      file.machines.push({ uuid: entry.uuid, dir: path.resolve(entry.dir) });
    });
  }

  async unregister(uuid: string): Promise<void> {
    await this.update((file) => {
      file.machines = file.machines.filter((m) => m.uuid !== uuid);
    });
  }

  async relocate(uuid: string, dir: string): Promise<void> {
    await this.update((file) => {
      const entry = file.machines.find((m) => m.uuid === uuid);
      if (!entry) throw new VmdeskError('NOT_FOUND', `No machine with uuid ${uuid}`);
      entry.dir = path.resolve(dir);
    });
  }
}
