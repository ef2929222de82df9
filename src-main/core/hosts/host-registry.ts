/**
 * `hosts.json` in the library: the remote hosts the user added. Only their SSH destinations and
 * VMDesk's settings for them — never a password, a passphrase or a key (ssh and its agent hold those).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { VmdeskError } from '../../api/errors.js';
import { hostEntrySchema, type HostEntry } from '../../api/hosts.js';
import { writeFileAtomic } from '../fs/atomic-file.js';
import { withLock } from '../fs/lock-file.js';

export const HOSTS_FILE = 'hosts.json';

const hostsFileSchema = z.object({ version: z.literal(1), hosts: z.array(hostEntrySchema) });

export class HostRegistry {
  readonly file: string;
  private readonly lockFile: string;

  constructor(home: string) {
    this.file = path.join(home, HOSTS_FILE);
    this.lockFile = path.join(home, '.hosts.lock');
  }

  async list(): Promise<HostEntry[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new VmdeskError('IO', `${this.file} is not valid JSON: fix or remove it`);
    }
    const parsed = hostsFileSchema.safeParse(value);
    if (!parsed.success) throw new VmdeskError('IO', `${this.file} is not a VMDesk hosts file: fix or remove it`);
    return parsed.data.hosts;
  }

  async get(name: string): Promise<HostEntry> {
    const entry = (await this.list()).find((h) => h.name === name);
    if (!entry) throw new VmdeskError('NOT_FOUND', `No host named ${name} (vmdesk hosts list shows them)`);
    return entry;
  }

  private async update(change: (hosts: HostEntry[]) => HostEntry[]): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await withLock(this.lockFile, 'updating the hosts', async () => {
      const hosts = change(await this.list());
      await writeFileAtomic(this.file, JSON.stringify({ version: 1, hosts }, null, 2) + '\n');
    });
  }

  /** Adds an entry; a name already taken is refused (checked again under the lock). */
  add(entry: HostEntry): Promise<void> {
    return this.update((hosts) => {
      if (hosts.some((h) => h.name === entry.name)) throw new VmdeskError('ALREADY_EXISTS', `A host named ${entry.name} already exists`);
      return [...hosts, entry];
    });
  }

  remove(name: string): Promise<void> {
    return this.update((hosts) => {
      if (!hosts.some((h) => h.name === name)) throw new VmdeskError('NOT_FOUND', `No host named ${name}`);
      return hosts.filter((h) => h.name !== name);
    });
  }
}
