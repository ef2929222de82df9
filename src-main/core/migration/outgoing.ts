/**
 * The source side of a live migration, in libvirt's order for migration without shared storage:
 * the destination prepares an empty copy waiting with `-incoming defer` and its disks exported over
 * NBD; here every disk is mirrored into its export (blockdev-mirror through the SSH-forwarded NBD
 * socket), then the RAM pre-copy runs with `pause-before-switchover`, so the mirrors are completed
 * inside the stop-and-copy; then the destination continues and owns the machine, and this copy ends.
 * Any failure or cancel before switchover leaves this machine running untouched and the destination
 * clean. Every stream rides the SSH connection: no TCP port is opened on either host.
 *
 * Encrypted disks: their frozen layers (snapshots) travel as the ciphertext they are; the top is
 * mirrored as the guest sees it (plain, inside SSH) into an encrypted image the destination made
 * with the passphrase the user gave, which goes there inside the API call and into no file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { VmdeskApi } from '../../api/contract.js';
import { DEFAULT_SHARES } from '../../api/machine-config.js';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import {
  migrateOptionsSchema,
  type MigrateOptions,
  type MigrationDetail,
  type MigrationOutcome,
  type MigrationPhases,
  type MigrationRound,
} from '../../api/migration.js';
import type { TaskInfo } from '../../api/types.js';
import { parseInput } from '../../api/validation.js';
import type { AgentClient } from '../agent/agent-client.js';
import type { Core } from '../core.js';
import { isInside } from '../fs/path-inside.js';
import { withLock } from '../fs/lock-file.js';
import { machineLockFile } from '../library/library.js';
import { machineTypeProblem } from '../machines/machine-type.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { sendFileStream } from './file-stream.js';
import { exportName } from './incoming.js';
import { chainFiles, readHeader } from '../snapshots/images.js';
import { isEncrypted, requirePassphrase } from '../storage/encryption.js';
import { WakeableDelay } from '../wakeable-delay.js';

export interface Destination {
  name: string;
  api: VmdeskApi;
  /** A local unix socket reaching `remotePath` on the destination through the SSH connection. */
  forward(remotePath: string): Promise<string>;
  /** Starts what `forward` goes through (a connection of its own), so its login overlaps the checks. */
  openLink?(): void;
}

/** A chunk, as base64, stays under the API's 1 MiB message limit. */
const CHUNK = 512 * 1024;
const CHUNKS_IN_FLIGHT = 4;
const POLL_MS = 250;
const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface QueryMigrate {
  status?: string;
  'error-desc'?: string;
  'total-time'?: number;
  downtime?: number;
  'expected-downtime'?: number;
  ram?: {
    transferred: number;
    remaining: number;
    total: number;
    'dirty-pages-rate': number;
    'dirty-sync-count': number;
    mbps: number;
    /** Sent while the guest was paused (QEMU 7.2 has it; older ones may not). */
    'downtime-bytes'?: number;
  };
}

/** QEMU's ImageInfo, as far as read here: an image and what it rests on. */
interface ImageInfo {
  filename: string;
  'virtual-size': number;
  'backing-image'?: ImageInfo;
}

/**
 * Each disk's virtual size and image files (top first, absolute), as its running QEMU has them open:
 * one `query-block` instead of a qemu-img per disk. A disk whose files QEMU names other than by a
 * plain path (a `json:` filename, from options a path cannot say) has no files here: it is read
 * with qemu-img instead.
 */
type OpenDisks = Map<string, { virtualBytes: number; files: string[] | null }>;

async function openDisks(client: AgentClient, config: MachineConfig): Promise<OpenDisks> {
  const blocks = await client.qmp<Array<{ inserted?: { 'node-name'?: string; image?: ImageInfo } }>>('query-block', undefined, 10_000);
  const open: OpenDisks = new Map();
  for (const disk of config.disks) {
    const image = blocks.find((b) => b.inserted?.['node-name'] === disk.id)?.inserted?.image;
    if (!image) continue;
    const files: string[] = [];
    for (let layer: ImageInfo | undefined = image; layer; layer = layer['backing-image']) files.push(layer.filename);
    open.set(disk.id, {
      virtualBytes: image['virtual-size'],
      files: files.every((f) => path.isAbsolute(f)) ? files.map((f) => path.resolve(f)) : null,
    });
  }
  return open;
}

interface BlockJob {
  device: string;
  len: number;
  offset: number;
  ready: boolean;
  status?: string;
}

/** Why this machine cannot migrate (live, or offline when stopped) now: every problem, listed before anything starts. */
export async function preflightProblems(
  core: Core,
  config: MachineConfig,
  dir: string,
  dest: Destination,
  offline = false,
  opened: Promise<OpenDisks | null> = Promise.resolve(null),
): Promise<string[]> {
  const problems: string[] = [];
  // The destination's answers are on their way while this host's checks run (each a round trip over SSH).
  const remote = Promise.all([dest.api.host(), dest.api.hostDetails(), dest.api.listMachines()]);
  remote.catch(() => undefined);
  const state = core.runtime.status(config.uuid).state;
  if (offline && state !== 'stopped') problems.push(`${config.name} is ${state}: an offline migration moves a stopped machine`);
  if (!offline && state !== 'running' && state !== 'paused')
    problems.push(`${config.name} is ${state}: live migration moves a running machine`);
  if (config.cdrom?.file && !isInside(dir, resolveMachinePath(dir, config.cdrom.file)))
    problems.push('A CD-ROM image is inserted (a host file the destination does not have): eject it first');
  const open = await opened;
  for (const disk of config.disks) {
    const file = resolveMachinePath(dir, disk.file);
    if (!isInside(dir, file)) {
      problems.push(`${disk.id} is a file outside the machine folder (${disk.file})`);
      continue;
    }
    // A linked clone reads from its base's images, which stay here.
    const chain = open?.get(disk.id)?.files ?? (await chainFiles(file, disk.format).catch(() => [] as string[]));
    const outside = chain.filter((f) => !isInside(dir, f));
    if (outside.length > 0)
      problems.push(
        `${disk.id} is a linked clone: it reads from ${outside[0]}, which stays on this host — make a full clone of it and migrate that`,
      );
  }
  for (const file of [config.kernelBoot?.kernel, config.kernelBoot?.initrd])
    if (file && !isInside(dir, resolveMachinePath(dir, file))) problems.push(`The kernel boot file ${file} is outside the machine folder`);
  for (const nic of offline ? [] : config.nics)
    if (nic.attachment.type === 'bridged' || nic.attachment.type === 'internal')
      problems.push(`${nic.id} is on a ${nic.attachment.type} network, which is this host's: attach it to NAT or none first`);
  const [host, details, machines] = await remote;
  if (!host.qemu) problems.push(`QEMU is not installed on ${dest.name}`);
  else {
    const type = machineTypeProblem(config, host.qemu);
    if (type) problems.push(`On ${dest.name}: ${type}`);
  }
  if (offline ? config.memoryMiB > details.memoryMiB : config.memoryMiB > details.freeMemoryMiB)
    problems.push(
      `${config.name} needs ${config.memoryMiB} MiB of memory; ${dest.name} has ${offline ? details.memoryMiB : details.freeMemoryMiB} MiB${offline ? '' : ' free'}`,
    );
  // The machine's CPU settings are applied there at its start: a host CPU or cgroups it lacks would fail it.
  const highest = Math.max(-1, ...config.resources.cpuPinning.map((p) => p.hostCpu));
  if (highest >= details.cpus)
    problems.push(`A vCPU is pinned to host CPU ${highest}, which ${dest.name} lacks (it has ${details.cpus}): change the pinning first`);
  if (config.resources.cpuCap !== null || config.resources.cpuShares !== DEFAULT_SHARES) {
    const cgroups = await dest.api.cgroupSupport();
    if (cgroups.version === null)
      problems.push(`${dest.name} cannot apply a CPU cap or shares (${cgroups.reason ?? 'no cgroups'}): remove them first`);
  }
  if (machines.some((m) => m.uuid === config.uuid)) problems.push(`${dest.name} already has this machine (same uuid)`);
  else if (machines.some((m) => m.config?.name === config.name)) problems.push(`${dest.name} already has a machine named ${config.name}`);
  return problems;
}

/** Every preflight problem at once, as one refusal before anything starts. */
async function requireMigratable(
  core: Core,
  config: MachineConfig,
  dir: string,
  dest: Destination,
  offline: boolean,
  opened?: Promise<OpenDisks | null>,
): Promise<void> {
  const problems = await preflightProblems(core, config, dir, dest, offline, opened);
  if (problems.length > 0)
    throw new VmdeskError('INVALID_STATE', `${config.name} cannot migrate to ${dest.name}:\n${problems.join('\n')}`, { problems });
}

/** The task's detail, shown from the first moment: the checks are under way. */
function beginDetail(ctx: TaskContext, machine: string, to: string, offline: boolean): MigrationDetail {
  const detail: MigrationDetail = {
    phase: 'preparing',
    offline,
    machine,
    to,
    disk: { doneBytes: 0, totalBytes: 0 },
    rounds: [],
    notConverging: null,
  };
  ctx.detail(detail);
  ctx.progress(null, `Checking ${to}`);
  return detail;
}

/** A migration task, titled with the machine's name (an unknown machine is refused before any task). */
export async function migrateTask(
  core: Core,
  ref: string,
  value: MigrateOptions,
  dest: Destination,
): Promise<{ task: TaskInfo; result: Promise<MigrationOutcome> }> {
  const options = parseInput(migrateOptionsSchema, value, 'migration options');
  const { config, dir } = await core.library.find(ref);
  // The destination's QEMU opens encrypted disks with the passphrase the user gives, tried here
  // before anything is made there. (A machine that is not running is refused by the checks; an
  // offline migration carries its encrypted images as they are, with no key.)
  if (!options.offline && isEncrypted(config) && core.runtime.isRunning(config.uuid))
    await requirePassphrase(config, dir, options.passphrase, 'migrate it live');
  return core.tasks.run(
    `Migrating ${config.name} to ${options.to}`,
    (ctx) => (options.offline ? migrateOffline(core, ref, dest, ctx) : migrate(core, ref, options, dest, ctx)),
    (o) => o,
  );
}

async function migrate(
  core: Core,
  ref: string,
  options: ReturnType<typeof migrateOptionsSchema.parse>,
  dest: Destination,
  ctx: TaskContext,
): Promise<MigrationOutcome> {
  const started = Date.now();
  const record = await core.library.find(ref);
  const { config, dir } = record;
  const detail = beginDetail(ctx, config.name, dest.name, false);
  dest.openLink?.();
  // The agent's connection, and the disks as QEMU has them open, come while the destination
  // answers the checks' questions.
  const connecting = core.runtime.connect(config, dir);
  const opened = connecting.then((c) => openDisks(c, config)).catch(() => null);
  try {
    await requireMigratable(core, config, dir, dest, false, opened);
  } catch (err) {
    void connecting.then((c) => c.close()).catch(() => undefined);
    throw err;
  }
  const phasesMs: MigrationPhases = {};
  let lapStart = started;
  const lap = (phase: keyof MigrationPhases): void => {
    const now = Date.now();
    phasesMs[phase] = now - lapStart;
    lapStart = now;
  };
  lap('checks');

  const client = await connecting;
  const qmp = <T>(command: string, args?: Record<string, unknown>): Promise<T> => client.qmp<T>(command, args, 60_000);
  let token: string | null = null;
  let switched = false;
  const mirrors: string[] = [];
  const wasRunning = (await qmp<{ running: boolean }>('query-status')).running;
  try {
    // The disks' sizes and backing files as QEMU has them open (the images are locked by it).
    const open = (await opened) ?? (await openDisks(client, config));
    // A disk with snapshots is an overlay on frozen images: those travel as files, the overlay (the
    // only layer the guest writes) is mirrored alone, onto the same chain rebuilt there.
    const tops = new Set(config.disks.map((d) => path.normalize(d.file)));
    const disks = await Promise.all(
      config.disks.map(async (d) => {
        const size = open?.get(d.id)?.virtualBytes;
        if (!size) throw new VmdeskError('INVALID_STATE', `${d.id} is not open in QEMU: cannot mirror it`);
        const files = open?.get(d.id)?.files;
        const backing = files ? (files[1] ?? null) : (await readHeader(resolveMachinePath(dir, d.file), d.format)).backing;
        if (backing && !isInside(dir, backing))
          throw new VmdeskError('INVALID_STATE', `${d.id} is on a backing file outside the machine folder`);
        return { id: d.id, virtualBytes: size, ...(backing ? { backing: path.relative(dir, backing) } : {}) };
      }),
    );
    // The RAM this QEMU has (TCG's pad or not, as started): the destination's QEMU needs the same.
    const ramKiB = (await qmp<{ 'base-memory': number }>('query-memory-size-summary'))['base-memory'] / 1024;
    ctx.progress(null, `Preparing ${config.name} on ${dest.name}`);
    const ready = await dest.api.prepareIncoming({
      config,
      disks,
      ...(ramKiB !== config.memoryMiB * 1024 ? { ramKiB } : {}),
      ...(isEncrypted(config) ? { passphrase: options.passphrase } : {}),
    });
    token = ready.token;
    lap('prepare');
    // The SSH forwards are set up while the files go and QEMU starts there (a forward connects only
    // when used); a destination that does not say its sockets ahead has them forwarded after.
    const forwards = (nbdSocket: string, migrationSocket: string): Promise<[string, string]> =>
      Promise.all([dest.forward(nbdSocket), dest.forward(migrationSocket)]);
    const early = ready.nbdSocket && ready.migrationSocket ? forwards(ready.nbdSocket, ready.migrationSocket) : null;
    early?.catch(() => undefined);
    const files = (await folderContents(dir)).filter(
      ({ file }) => !tops.has(path.normalize(file)) && !file.startsWith('machine.json') && !file.startsWith(`logs${path.sep}`),
    );
    // All files at once, as raw streams where the destination takes them (through one more SSH
    // forward), else through its API; every one ended (sent or failed) before a failure goes on to
    // the rollback.
    // (Forwarded only when there is a file: an unused forward's failure would be nobody's.)
    const filesLink = ready.filesSocket && files.length > 0 ? dest.forward(ready.filesSocket) : null;
    const sending = await Promise.allSettled(
      files.map(async ({ file, bytes }) =>
        filesLink
          ? sendFileStream(await filesLink, ready.token, file, path.join(dir, file))
          : sendFile(dest, ready.token, dir, file, bytes, ctx),
      ),
    );
    for (const s of sending) if (s.status === 'rejected') throw s.reason;
    lap('files');
    const incoming = await dest.api.startIncoming(token);
    const [nbd, stream] = await (early ?? forwards(incoming.nbdSocket, incoming.migrationSocket));
    lap('start');
    if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Migration cancelled');

    // Every wait below wakes on QEMU's event (a mirror ready or completed, a migration's status): no
    // poll interval is added to the time, nor to the downtime once the guest stops for the switchover.
    // From pre-switchover on, the events' own data say what happened (the migration's status, a
    // mirror completed): no query after each one, as the guest is paused meanwhile.
    const delay = new WakeableDelay();
    const seen = { status: '', completedJobs: new Set<string>(), jobError: '' };
    const onEvent = (name: string, data?: unknown): void => {
      const event = (data ?? {}) as { status?: unknown; device?: unknown; error?: unknown };
      if (name === 'MIGRATION' && typeof event.status === 'string') seen.status = event.status;
      if (name === 'BLOCK_JOB_COMPLETED' && typeof event.device === 'string') {
        seen.completedJobs.add(event.device);
        if (typeof event.error === 'string') seen.jobError ||= `${event.device}: ${event.error}`;
      }
      if (name === 'MIGRATION' || name === 'BLOCK_JOB_READY' || name === 'BLOCK_JOB_COMPLETED' || name === 'BLOCK_JOB_ERROR') delay.wake();
    };
    client.on('qmp', onEvent);
    const nextEventOrPoll = (ms = POLL_MS): Promise<void> => delay.wait(ms);

    // 1. Disks: a full mirror of each into the destination's export, kept in sync once ready.
    for (const disk of config.disks) {
      const target = exportName(disk.id);
      await qmp('blockdev-add', { driver: 'nbd', 'node-name': target, server: { type: 'unix', path: nbd }, export: target });
      const sync = disks.find((d) => d.id === disk.id)?.backing ? 'top' : 'full';
      await qmp('blockdev-mirror', { 'job-id': target, device: disk.id, target, sync });
      mirrors.push(target);
    }
    let diskBytes = 0;
    for (;;) {
      if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Migration cancelled');
      const jobs = (await qmp<BlockJob[]>('query-block-jobs')).filter((j) => mirrors.includes(j.device));
      const len = jobs.reduce((s, j) => s + j.len, 0);
      const done = jobs.reduce((s, j) => s + j.offset, 0);
      diskBytes = len;
      detail.phase = 'disks';
      detail.disk = { doneBytes: done, totalBytes: len };
      if (jobs.length < mirrors.length) throw new VmdeskError('QEMU_FAILED', 'A disk mirror stopped before it was ready');
      ctx.progress(len ? (done / len) * 0.3 : 0, `Mirroring disks: ${Math.round(done / MiB)} of ${Math.round(len / MiB)} MiB`);
      if (jobs.every((j) => j.ready)) break;
      await nextEventOrPoll();
    }

    lap('disks');
    // 2. RAM: pre-copy rounds, paused before switchover so the mirrors complete inside it.
    await qmp('migrate-set-capabilities', {
      capabilities: [
        { capability: 'events', state: true },
        { capability: 'pause-before-switchover', state: true },
        { capability: 'auto-converge', state: options.autoConverge ?? false },
      ],
    });
    await qmp('migrate-set-parameters', {
      'max-bandwidth': options.bandwidthMiBs ? options.bandwidthMiBs * MiB : 0,
      ...(options.maxDowntimeMs ? { 'downtime-limit': options.maxDowntimeMs } : {}),
    });
    await qmp('migrate', { uri: `unix:${stream}` });
    const rounds = detail.rounds;
    detail.phase = 'ram';
    let info: QueryMigrate = {};
    for (;;) {
      if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Migration cancelled');
      if (seen.status === 'pre-switchover') break;
      info = await qmp<QueryMigrate>('query-migrate');
      const ram = info.ram;
      if (ram) {
        const round = Math.max(1, ram['dirty-sync-count']);
        const entry: MigrationRound = {
          round,
          ramTransferredBytes: ram.transferred,
          ramRemainingBytes: ram.remaining,
          ramTotalBytes: ram.total,
          dirtyPagesRate: ram['dirty-pages-rate'],
          expectedDowntimeMs: info['expected-downtime'] ?? null,
          throughputMbps: ram.mbps,
          at: new Date().toISOString(),
        };
        if (rounds.at(-1)?.round === round) rounds[rounds.length - 1] = entry;
        else rounds.push(entry);
        const notConverging =
          round >= 6 && ram.remaining > 0 && rounds.length >= 3 && (rounds.at(-3)?.ramRemainingBytes ?? 0) <= ram.remaining;
        detail.notConverging = notConverging
          ? 'The guest dirties memory as fast as the link sends it: raise the max downtime, turn on auto-converge or raise the bandwidth'
          : null;
        ctx.progress(
          0.3 + 0.65 * (ram.transferred / Math.max(1, ram.transferred + ram.remaining)),
          `Round ${round}: ${Math.round(ram.transferred / MiB)} MiB sent, ${Math.round(ram.remaining / MiB)} MiB left, ` +
            `${Math.round(ram['dirty-pages-rate'])} pages/s dirtied` +
            (notConverging ? ' — not converging: raise the max downtime, turn on auto-converge or raise the bandwidth' : ''),
        );
      }
      if (info.status === 'failed' || info.status === 'cancelled')
        throw new VmdeskError('QEMU_FAILED', `The migration ${info.status}: ${info['error-desc'] ?? 'no reason given'}`);
      if (info.status === 'pre-switchover') break;
      await nextEventOrPoll();
    }
    const pausedAt = Date.now();
    lap('ram');

    // 3. Switchover: the guest is paused; the mirrors complete (a cancelled ready mirror finishes
    //    its last writes and leaves the copy consistent), then the last RAM goes.
    detail.phase = 'switchover';
    ctx.progress(0.96, 'Switching over');
    switched = true;
    await Promise.all(mirrors.map((job) => qmp('block-job-cancel', { device: job })));
    // Each wait below ends on QEMU's event; every fourth wait a query too, should an event be missed.
    for (let i = 1; !mirrors.every((job) => seen.completedJobs.has(job)); i++) {
      if (i > 1200) throw new VmdeskError('TIMEOUT', 'The disk mirrors did not complete at switchover');
      await nextEventOrPoll(25);
      if (i % 4 === 0 && !(await qmp<BlockJob[]>('query-block-jobs')).some((j) => mirrors.includes(j.device))) break;
    }
    // A mirror that ended on an error left its copy incomplete: the guest goes on here.
    if (seen.jobError) throw new VmdeskError('QEMU_FAILED', `A disk mirror failed at switchover (${seen.jobError})`);
    seen.status = '';
    await qmp('migrate-continue', { state: 'pre-switchover' });
    for (let i = 1; seen.status !== 'completed'; i++) {
      if (seen.status === 'failed' || seen.status === 'cancelled') {
        info = await qmp<QueryMigrate>('query-migrate');
        throw new VmdeskError('QEMU_FAILED', `The migration ${seen.status} at switchover: ${info['error-desc'] ?? 'no reason given'}`);
      }
      await nextEventOrPoll(20);
      // Only an ended migration's status is taken from the query: an event may have come since it was asked.
      const asked = i % 4 === 0 ? (await qmp<QueryMigrate>('query-migrate')).status : undefined;
      if (asked === 'completed' || asked === 'failed' || asked === 'cancelled') seen.status = asked;
    }
    client.off('qmp', onEvent);
    lap('switchover');
    // QEMU 7.2 fills in its own downtime figure a moment after `completed`: asked for while the
    // destination commits, not after.
    const completed = info;
    const qemuFigures = (async (): Promise<QueryMigrate> => {
      let last = completed;
      for (let i = 0; i < 20 && !last.downtime; i++) {
        await sleep(25);
        last = await qmp<QueryMigrate>('query-migrate');
      }
      return last;
    })().catch(() => completed);
    const committed = await dest.api.finishIncoming(token, 'commit');
    token = null;
    // The guest was paused from pre-switchover until the destination continued it: that is the downtime
    // its users see (the answer's way back included, the destination's registering after it ran not).
    // QEMU's own figure counts less.
    const downtimeMs = Math.round(Date.now() - pausedAt - (committed?.afterResumeMs ?? 0));
    lap('commit');
    info = await qemuFigures;
    lap('qemuFigures');
    // 4. The destination owns the machine: this copy ends and leaves the library. The agent lets
    //    its clients go once QEMU has exited and its runtime files are gone.
    const warnings: string[] = [];
    await client.request({ op: 'poweroff' }).catch(() => undefined);
    await client.whenClosed(10_000);
    for (let i = 0; i < 200 && core.runtime.isRunning(config.uuid); i++) await sleep(50);
    lap('sourceStop');
    // The migration succeeded whatever happens now: a copy left here is said, not a failure.
    await core
      .delete(config.uuid)
      .catch((err: unknown) =>
        warnings.push(`${config.name} runs on ${dest.name}, but its stopped copy here could not be deleted: ${(err as Error).message}`),
      );
    lap('sourceDelete');
    detail.phase = 'done';
    ctx.progress(1, `${config.name} runs on ${dest.name}`);
    return {
      name: config.name,
      to: dest.name,
      totalMs: Date.now() - started,
      downtimeMs,
      qemuDowntimeMs: info.downtime ?? null,
      ramDowntimeBytes: info.ram?.['downtime-bytes'] ?? null,
      phasesMs,
      warnings,
      rounds,
      ramBytes: info.ram?.transferred ?? 0,
      diskBytes,
    };
  } catch (err) {
    if (!switched || token !== null) await rollback(qmp, mirrors, token, dest, wasRunning);
    throw err;
  } finally {
    client.close();
  }
}

/** Files of a machine folder that travel: all but its lock, an owner marker and temp files. */
async function folderContents(dir: string): Promise<Array<{ file: string; bytes: number }>> {
  const found: Array<{ file: string; bytes: number }> = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.relative(dir, path.join(entry.parentPath, entry.name));
    if (file === 'machine.lock' || file === '.vmdesk-owner' || file.endsWith('.tmp')) continue;
    found.push({ file, bytes: (await fs.stat(path.join(dir, file))).size });
  }
  // machine.json last: the destination checks it against what was announced when it commits.
  return found.sort((a, b) => Number(a.file === 'machine.json') - Number(b.file === 'machine.json'));
}

const ZEROS = Buffer.alloc(CHUNK);

/**
 * One file of the machine folder to the destination, in chunks under the API's message limit; a
 * chunk of zeros is not sent (the file there keeps the hole), the last one always is (its size).
 */
async function sendFile(
  dest: Destination,
  token: string,
  dir: string,
  file: string,
  bytes: number,
  ctx: TaskContext,
  onProgress?: (doneBytes: number) => void,
): Promise<number> {
  const handle = await fs.open(path.join(dir, file), 'r');
  let done = 0;
  // Chunks go CHUNKS_IN_FLIGHT at a time (the far end writes each at its offset): one round trip
  // per chunk, one after the other, cost more than the bytes over a fast link. The first chunk
  // creates the file, so it goes alone.
  const failed: { error: Error | null } = { error: null };
  const inFlight = new Set<Promise<void>>();
  const send = (offset: number, chunk: Buffer | null, length: number): Promise<void> => {
    const sent: Promise<void> = (chunk ? dest.api.incomingFile(token, file, offset, chunk.toString('base64')) : Promise.resolve(null))
      .then(
        () => {
          done += length;
          onProgress?.(done);
        },
        (err: unknown) => {
          failed.error ??= err instanceof Error ? err : new Error(String(err));
        },
      )
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    return sent;
  };
  try {
    for (let offset = 0; offset < bytes || offset === 0; offset += CHUNK) {
      if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Migration cancelled');
      const buffer = Buffer.alloc(CHUNK);
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, offset);
      const chunk = buffer.subarray(0, bytesRead);
      const last = offset + CHUNK >= bytes;
      const sent = send(offset, last || !chunk.equals(ZEROS.subarray(0, bytesRead)) ? chunk : null, bytesRead);
      if (offset === 0) await sent;
      else if (inFlight.size >= CHUNKS_IN_FLIGHT) await Promise.race(inFlight);
      if (failed.error) throw failed.error;
      if (bytes === 0) break;
    }
    await Promise.all(inFlight);
    if (failed.error) throw failed.error;
  } finally {
    await Promise.all(inFlight);
    await handle.close();
  }
  return done;
}

/**
 * A stopped machine: its whole folder (disks, snapshot images and tree, saved state, boot files) sent
 * file by file under its lock — holes stay holes — then registered there and deleted here.
 */
async function migrateOffline(core: Core, ref: string, dest: Destination, ctx: TaskContext): Promise<MigrationOutcome> {
  const started = Date.now();
  const record = await core.library.find(ref);
  const { config, dir } = record;
  const detail = beginDetail(ctx, config.name, dest.name, true);
  let sent = 0;
  await withLock(machineLockFile(dir), `migrating ${config.name}`, async () => {
    await requireMigratable(core, config, dir, dest, true);
    const files = await folderContents(dir);
    const total = files.reduce((s, f) => s + f.bytes, 0);
    detail.phase = 'disks';
    detail.disk = { doneBytes: 0, totalBytes: total };
    const { token } = await dest.api.prepareIncoming({ config, disks: [], offline: true });
    try {
      for (const { file, bytes } of files)
        sent += await sendFile(dest, token, dir, file, bytes, ctx, (done) => {
          detail.disk.doneBytes = sent + done;
          ctx.progress(
            total ? ((sent + done) / total) * 0.95 : null,
            `Copying ${config.name}: ${Math.round((sent + done) / MiB)} of ${Math.round(total / MiB)} MiB`,
          );
        });
      await dest.api.finishIncoming(token, 'commit');
    } catch (err) {
      await dest.api.finishIncoming(token, 'abort').catch(() => undefined);
      throw err;
    }
  });
  await core.delete(config.uuid);
  detail.phase = 'done';
  ctx.progress(1, `${config.name} is on ${dest.name}`);
  return {
    name: config.name,
    to: dest.name,
    totalMs: Date.now() - started,
    downtimeMs: null,
    rounds: [],
    ramBytes: 0,
    diskBytes: sent,
    warnings: [],
  };
}

/**
 * Before switchover: the migration and the mirrors cancelled here (the guest goes on running, or is
 * continued if the stop-and-copy had paused it), the destination told to abort (its QEMU killed, its
 * folder removed).
 */
async function rollback(
  qmp: <T>(command: string, args?: Record<string, unknown>) => Promise<T>,
  mirrors: string[],
  token: string | null,
  dest: Destination,
  wasRunning: boolean,
): Promise<void> {
  await qmp('migrate_cancel').catch(() => undefined);
  for (const job of mirrors) await qmp('block-job-cancel', { device: job, force: true }).catch(() => undefined);
  for (let i = 0; i < 200; i++) {
    const jobs = await qmp<BlockJob[]>('query-block-jobs').catch(() => [] as BlockJob[]);
    if (!jobs.some((j) => mirrors.includes(j.device))) break;
    await sleep(25);
  }
  for (const node of mirrors) await qmp('blockdev-del', { 'node-name': node }).catch(() => undefined);
  // Once the stream completed, the destination holds the whole machine and continues it on its own if
  // it loses us with its stream complete; whether it did cannot be known from here while it does not
  // answer. This copy stays paused, whole: continuing it could make two, ending it could make none.
  const migration = await qmp<{ status?: string }>('query-migrate').catch(() => null);
  if (migration?.status === 'completed')
    throw new VmdeskError(
      'UNREACHABLE',
      `The machine was sent whole to ${dest.name}, which did not confirm it took it over: the copy here stays paused. ` +
        `If it runs on ${dest.name}, power this copy off; if not, resume it here.`,
    );
  const status = await qmp<{ status: string; running: boolean }>('query-status').catch(() => null);
  if (wasRunning && status && !status.running) await qmp('cont').catch(() => undefined);
  if (token) await dest.api.finishIncoming(token, 'abort').catch(() => undefined);
}
