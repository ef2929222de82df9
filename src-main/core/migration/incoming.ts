/**
 * The destination side of a live migration, driven by the source's VMDesk over the API: a machine
 * folder with empty disks of the source's sizes and the machine's agent started ahead, loading while
 * it waits (prepare), the files QEMU reads at start sent ahead (file), QEMU started by that agent
 * with the source's argv plus `-incoming defer`, its disks exported over NBD on
 * a unix socket and waiting for the RAM stream on another (start), then either continued and
 * registered (commit) or killed and removed (abort). Until commit the folder carries this process's
 * owner file: if this VMDesk dies, the next sweep removes it, and the source, which sees the link
 * drop before switchover, keeps running.
 *
 * A machine with encrypted disks comes with its passphrase (live only: an offline one's images come
 * as they are): its empty disks are made encrypted with it and its QEMU gets it as a start's does,
 * so what the mirror writes is encrypted here at rest.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import {
  incomingInputSchema,
  type IncomingCommitted,
  type IncomingInput,
  type IncomingPrepared,
  type IncomingReady,
} from '../../api/migration.js';
import { parseInput } from '../../api/validation.js';
import type { AgentClient } from '../agent/agent-client.js';
import { clearOwner, writeOwner } from '../clone/staging.js';
import type { Core } from '../core.js';
import { requireQemu } from '../host/capabilities.js';
import { loadMachineConfig, saveMachineConfig } from '../library/library.js';
import { machineTypeProblem } from '../machines/machine-type.js';
import { createImage } from '../qemu/qemu-img.js';
import { createEncryptedImage, isEncrypted } from '../storage/encryption.js';
import { createOverlay } from '../snapshots/images.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import type { StandbyAgent } from '../vm/vm-runtime.js';
import { receiveFiles, type FileReceiver } from './file-stream.js';
import { WakeableDelay } from '../wakeable-delay.js';

interface Pending {
  config: MachineConfig;
  dir: string;
  started: boolean;
  offline: boolean;
  /** The source's RAM size when it is not the config's (see incomingInputSchema). */
  ramKiB: number | undefined;
  /** Overlays made at start, once their backing files (the snapshots' images) have arrived. */
  overlays: Array<{ file: string; backing: string; virtualBytes: number; encrypted: boolean }>;
  /** Encrypted disks: the passphrase their QEMU here opens them with (kept in memory only, until commit or abort). */
  passphrase: string | undefined;
  /** Where the files sent ahead arrive as raw streams (a live migration, until start). */
  receiver: FileReceiver | null;
  /** The machine's agent, started at prepare so that Node has loaded it by start (a live migration, until start). */
  standby: StandbyAgent | null;
  /**
   * From start until commit or abort: the connection to the agent that started the incoming
   * migration, and whether QEMU's MIGRATION event has said the stream arrived whole. Commit then
   * goes on the moment it has, on a connection already open.
   */
  link: IncomingLink | null;
}

class IncomingLink {
  arrived = false;
  private readonly delay = new WakeableDelay();

  constructor(readonly client: AgentClient) {
    client.on('qmp', (name: string, data: unknown) => {
      if (name !== 'MIGRATION' || (data as { status?: unknown } | null)?.status !== 'completed') return;
      this.arrived = true;
      this.delay.wake();
    });
  }

  /** Until QEMU here has loaded the whole stream: its event says so at once, a query every 50 ms makes sure. */
  async arrival(limitMs = 30_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!this.arrived) {
      const info = await this.client.qmp<{ status?: string; 'error-desc'?: string }>('query-migrate');
      if (info.status === 'completed') return;
      if (info.status === 'failed' || Date.now() > deadline)
        throw new VmdeskError(
          'QEMU_FAILED',
          `The migration stream did not complete here: ${info['error-desc'] ?? info.status ?? 'no status'}`,
        );
      await this.delay.wait(50);
    }
  }
}

/** NBD export names and node names: the disk's own node (its format node), exported writable. */
export const exportName = (diskId: string): string => `mig-${diskId}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class IncomingMigrations {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly core: Core) {}

  private get(token: string): Pending {
    const p = this.pending.get(token);
    if (!p) throw new VmdeskError('NOT_FOUND', 'No such incoming migration (it was finished or aborted)');
    return p;
  }

  async prepare(value: IncomingInput): Promise<IncomingReady> {
    const { config, disks, offline = false, ramKiB, passphrase } = parseInput(incomingInputSchema, value, 'incoming migration');
    // A live copy of encrypted disks is made encrypted with it; anything else has no use for a key.
    const keyed = !offline && isEncrypted(config);
    if (keyed && passphrase === undefined)
      throw new VmdeskError('INVALID_INPUT', `${config.name} has encrypted disks: its passphrase is needed to receive it live`, {
        needsPassphrase: true,
      });
    if (!keyed && passphrase !== undefined)
      throw new VmdeskError('INVALID_INPUT', `A passphrase is only taken with a live migration of a machine with encrypted disks`);
    // A pad or its absence, never another machine's memory: at most 1 MiB from the config's.
    if (ramKiB !== undefined && Math.abs(ramKiB - config.memoryMiB * 1024) > 1024)
      throw new VmdeskError('INVALID_INPUT', `A RAM of ${ramKiB} KiB is not the ${config.memoryMiB} MiB of ${config.name}`);
    const library = this.core.library;
    const records = await library.list();
    if (records.some((r) => r.uuid === config.uuid))
      throw new VmdeskError('ALREADY_EXISTS', `This host already has the machine ${config.name} (uuid ${config.uuid})`);
    if (records.some((r) => r.config?.name === config.name))
      throw new VmdeskError('ALREADY_EXISTS', `This host already has a machine named ${config.name}`);
    const host = await this.core.host();
    const problem = machineTypeProblem(config, requireQemu(host));
    if (problem) throw new VmdeskError('HOST_UNSUPPORTED', problem);
    if (!offline && config.memoryMiB > host.freeMemoryMiB)
      throw new VmdeskError(
        'INVALID_STATE',
        `${config.name} needs ${config.memoryMiB} MiB of memory; this host has ${host.freeMemoryMiB} MiB free`,
      );
    for (const disk of config.disks) {
      if (!offline && !disks.some((d) => d.id === disk.id)) throw new VmdeskError('INVALID_INPUT', `No size given for ${disk.id}`);
      if (path.isAbsolute(disk.file)) throw new VmdeskError('INVALID_INPUT', `${disk.id} is not inside the machine folder`);
    }
    await library.ensure();
    const dir = path.join(library.machinesDir, config.name);
    const overlays: Pending['overlays'] = [];
    try {
      await fs.mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new VmdeskError('ALREADY_EXISTS', `A folder ${dir} is already there: move it away first`);
      throw err;
    }
    try {
      await writeOwner(dir);
      if (!offline) {
        for (const disk of config.disks) {
          const file = resolveMachinePath(dir, disk.file);
          const sent = disks.find((d) => d.id === disk.id);
          await fs.mkdir(path.dirname(file), { recursive: true });
          const encrypted = disk.encrypted === true;
          if (sent?.backing) overlays.push({ file, backing: path.join(dir, sent.backing), virtualBytes: sent.virtualBytes, encrypted });
          else if (encrypted && passphrase !== undefined) await createEncryptedImage(file, sent?.virtualBytes ?? 0, passphrase);
          else await createImage(file, 'qcow2', sent?.virtualBytes ?? 0);
        }
        await saveMachineConfig(dir, config);
      }
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }
    const token = randomUUID();
    const pending: Pending = {
      config,
      dir,
      started: false,
      offline,
      ramKiB,
      overlays,
      receiver: null,
      passphrase,
      standby: null,
      link: null,
    };
    if (!offline) {
      // Beside the machines' runtime dirs (the machine's own is made anew when QEMU starts there).
      // The source gets no token if this fails: nothing of the migration may stay.
      try {
        const runtimeRoot = path.dirname(this.core.runtime.dir(config.uuid));
        await fs.mkdir(runtimeRoot, { recursive: true, mode: 0o700 });
        pending.receiver = await receiveFiles(path.join(runtimeRoot, `in-${token.slice(0, 8)}.sock`), token, (file) =>
          this.fileTarget(pending, file),
        );
        // Node starts the agent while the files come: a few hundred ms of a start not waited for.
        pending.standby = this.core.runtime.standby(config.uuid, dir);
      } catch (err) {
        await this.stopReceiving(pending);
        await fs.rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
    this.pending.set(token, pending);
    return pending.receiver ? { token, dir, ...this.sockets(config.uuid), filesSocket: pending.receiver.socket } : { token, dir };
  }

  /** Where a file of the machine folder sent ahead is written: inside the folder, before start. */
  private async fileTarget(p: Pending, relative: string): Promise<string> {
    if (p.started) throw new VmdeskError('INVALID_STATE', 'QEMU already runs: files come before start');
    const file = resolveMachinePath(p.dir, relative);
    if (path.relative(p.dir, file).startsWith('..')) throw new VmdeskError('INVALID_INPUT', 'Not a file of the machine folder');
    await fs.mkdir(path.dirname(file), { recursive: true });
    return file;
  }

  /** Files no longer taken; a standby agent not launched by now ends. */
  private async stopReceiving(p: Pending): Promise<void> {
    const receiver = p.receiver;
    p.receiver = null;
    await receiver?.close();
  }

  /** The standby agent for the launch, or ended: it is used once. */
  private takeStandby(p: Pending): StandbyAgent | undefined {
    const standby = p.standby ?? undefined;
    p.standby = null;
    return standby;
  }

  private sockets(uuid: string): { nbdSocket: string; migrationSocket: string } {
    const runtimeDir = this.core.runtime.dir(uuid);
    return { nbdSocket: path.join(runtimeDir, 'nbd.sock'), migrationSocket: path.join(runtimeDir, 'migrate.sock') };
  }

  /** A chunk of a file of the machine folder (kernel, initrd, UEFI variables), before start. */
  async file(token: string, relative: string, offset: number, base64: string): Promise<null> {
    const file = await this.fileTarget(this.get(token), relative);
    const handle = await fs.open(file, offset === 0 ? 'w' : 'r+');
    try {
      await handle.write(Buffer.from(base64, 'base64'), 0, undefined, offset);
    } finally {
      await handle.close();
    }
    return null;
  }

  private async agent(p: Pending): Promise<AgentClient> {
    return this.core.runtime.connect(p.config, p.dir);
  }

  async start(token: string): Promise<IncomingPrepared> {
    const p = this.get(token);
    if (p.offline) throw new VmdeskError('INVALID_STATE', 'An offline migration starts no QEMU: commit it once its files are sent');
    if (p.started) throw new VmdeskError('INVALID_STATE', 'The incoming migration is already started');
    p.started = true;
    await this.stopReceiving(p);
    const standby = this.takeStandby(p);
    try {
      await this.launch(p, standby);
    } finally {
      standby?.cancel();
    }
    // Its agent holds the key now; nothing here needs it again.
    p.passphrase = undefined;
    const { nbdSocket, migrationSocket } = this.sockets(p.config.uuid);
    const client = await this.agent(p);
    p.link = new IncomingLink(client);
    try {
      await client.qmp('nbd-server-start', { addr: { type: 'unix', data: { path: nbdSocket } } });
      const exports: Record<string, string> = {};
      for (const disk of p.config.disks) {
        exports[disk.id] = exportName(disk.id);
        await client.qmp('block-export-add', {
          type: 'nbd',
          id: exportName(disk.id),
          'node-name': disk.id,
          name: exportName(disk.id),
          writable: true,
        });
      }
      await client.qmp('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
      await client.qmp('migrate-incoming', { uri: `unix:${migrationSocket}` });
      return { token, dir: p.dir, nbdSocket, migrationSocket, exports };
    } catch (err) {
      this.dropLink(p);
      throw err;
    }
  }

  /** The connection kept from start, closed. */
  private dropLink(p: Pending): void {
    p.link?.client.close();
    p.link = null;
  }

  /** The overlays on the snapshot images that arrived, then QEMU waiting for the stream (by the standby agent). */
  private async launch(p: Pending, standby: StandbyAgent | undefined): Promise<void> {
    for (const overlay of p.overlays) {
      if (!(await fs.stat(overlay.backing).catch(() => null))?.isFile())
        throw new VmdeskError('INVALID_INPUT', `The snapshot image ${path.relative(p.dir, overlay.backing)} did not arrive`);
      // An encrypted disk's snapshot images arrived as they were (encrypted): its new top is too.
      if (overlay.encrypted && p.passphrase !== undefined)
        await createEncryptedImage(
          overlay.file,
          overlay.virtualBytes,
          p.passphrase,
          path.relative(path.dirname(overlay.file), overlay.backing),
        );
      else await createOverlay(overlay.file, overlay.backing, overlay.virtualBytes);
    }
    await this.core.launchMachine(p.config, p.dir, {
      incomingMigration: true,
      ...(p.ramKiB ? { ramKiB: p.ramKiB } : {}),
      ...(p.passphrase !== undefined ? { passphrase: p.passphrase } : {}),
      ...(standby ? { standby } : {}),
    });
  }

  /**
   * The stream is complete: NBD stopped, the guest continued here, the machine registered. Says how
   * long the guest had run when it answers: the source counts its downtime until the guest ran.
   */
  async commit(token: string): Promise<IncomingCommitted | null> {
    const p = this.get(token);
    if (p.offline) return this.commitOffline(token, p);
    // The connection from start, unless it was lost (the agent restarted): then a new one.
    const link = p.link && !p.link.client.isClosed ? p.link : new IncomingLink(await this.agent(p));
    p.link = link;
    try {
      await link.arrival();
      await link.client.qmp('nbd-server-stop');
      await link.client.request({ op: 'resume' });
    } finally {
      this.dropLink(p);
    }
    const resumedAt = performance.now();
    await this.core.library.register({ uuid: p.config.uuid, dir: p.dir }, p.config.name);
    await clearOwner(p.dir);
    this.pending.delete(token);
    this.core.emit('machines');
    this.core.emit('machine-state', { uuid: p.config.uuid, status: this.core.runtime.status(p.config.uuid) });
    return { afterResumeMs: performance.now() - resumedAt };
  }

  /** A stopped machine's folder, arrived whole: checked (its config is the one announced), then registered. */
  private async commitOffline(token: string, p: Pending): Promise<null> {
    const arrived = await loadMachineConfig(p.dir);
    if (arrived.uuid !== p.config.uuid || arrived.name !== p.config.name)
      throw new VmdeskError('INVALID_INPUT', 'The machine.json that arrived is not the machine announced');
    await this.core.library.register({ uuid: p.config.uuid, dir: p.dir }, p.config.name);
    await clearOwner(p.dir);
    this.pending.delete(token);
    this.core.emit('machines');
    return null;
  }

  /** Before switchover: QEMU killed, the folder removed, nothing left. */
  async abort(token: string): Promise<null> {
    const p = this.get(token);
    this.pending.delete(token);
    this.dropLink(p);
    await this.stopReceiving(p);
    this.takeStandby(p)?.cancel();
    if (p.started) {
      const client = await this.agent(p).catch(() => null);
      await client?.request({ op: 'poweroff' }).catch(() => undefined);
      client?.close();
      for (let i = 0; i < 200 && this.core.runtime.isRunning(p.config.uuid); i++) await sleep(50);
      // Nor its runtime dir (its exit record, the sockets of the stream and the exports): this host
      // never had the machine.
      if (!this.core.runtime.isRunning(p.config.uuid)) await this.core.runtime.clear(p.config.uuid);
    }
    await fs.rm(p.dir, { recursive: true, force: true });
    return null;
  }

  /**
   * The link to the source is gone. A live migration whose stream completed here is committed: the
   * source's QEMU never runs it again once it has sent it all (its agent ends it). Any other is
   * aborted: the source continues its guest.
   */
  async settleAll(): Promise<void> {
    for (const [token, p] of [...this.pending]) {
      const completed = p.started && !p.offline && (await this.streamCompleted(p));
      await (completed ? this.commit(token) : this.abort(token)).catch(() => undefined);
    }
  }

  private async streamCompleted(p: Pending): Promise<boolean> {
    const client = await this.agent(p).catch(() => null);
    if (!client) return false;
    try {
      const info = await client.qmp<{ status?: string }>('query-migrate');
      return info.status === 'completed';
    } catch {
      return false;
    } finally {
      client.close();
    }
  }
}
