/**
 * Live migration between two hosts through the real CLI: a demo guest printing a counter on its
 * serial port moves to a second host (sshd in a network namespace of its own, ssh-host.ts) with its
 * RAM (same boot, same tmpfs file), its disk (a marker written before, read back with the page cache
 * dropped) and its counter going on without a gap longer than the downtime reported; nothing of it
 * is left here. A stopped machine, a name the destination already has and a machine with snapshots
 * are refused, both libraries unchanged. Ctrl-C half-way through a slow migration leaves the
 * machine running here and nothing of it there.
 *
 * Both "hosts" share this machine's filesystem and process table (only the network differs): the
 * remote library and runtime dir are read directly, and a QEMU is told apart by its runtime dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, eventually, guestSays, makeSandbox, skipBecause, vmdesk, type CliResult, type Sandbox } from './harness.js';
import { sshHostUnavailable, sshMasters, startSshHost, type SshHost } from './ssh-host.js';

const PROMPT = 'vmdesk-demo# ';
const unavailable = sshHostUnavailable();
let host: SshHost;
let sb: Sandbox;
let env: NodeJS.ProcessEnv;

interface Listed {
  uuid: string;
  config: { name: string };
  status: { state: string };
}

interface Outcome {
  name: string;
  to: string;
  totalMs: number;
  downtimeMs: number | null;
  ramDowntimeBytes?: number | null;
  rounds: Array<{ round: number; ramTransferredBytes: number }>;
  ramBytes: number;
  diskBytes: number;
}

function cli(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return vmdesk(sb, args, { env, timeoutMs });
}

async function ok(args: string[], timeoutMs?: number): Promise<string> {
  const r = await cli(args, timeoutMs);
  if (r.code !== 0) throw new Error(`vmdesk ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The machines of this host, or of lab. */
async function machines(where: 'local' | 'lab'): Promise<Listed[]> {
  return JSON.parse(await ok([...(where === 'lab' ? ['--host', 'lab'] : []), 'list', '--json'])) as Listed[];
}

/** Every file and folder under `dir` (hidden ones too), relative, sorted; lock files left out. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => !f.endsWith('.lock')).sort();
}

/** What a refused migration must not change: both libraries as listed, their folders, lab's runtime dir. */
async function bothSides(): Promise<string> {
  const summary = (list: Listed[]): string[] => list.map((m) => `${m.uuid} ${m.config.name} ${m.status.state}`).sort();
  return JSON.stringify(
    {
      local: summary(await machines('local')),
      lab: summary(await machines('lab')),
      localFiles: tree(path.join(sb.home, 'machines')),
      labFiles: tree(path.join(host.remoteHome, 'machines')),
      labRuntime: tree(host.remoteRuntime),
    },
    null,
    1,
  );
}

/** Processes whose command line holds both `uuid` and `runtimeDir` (this host's QEMU of a machine, or lab's). */
function qemuOf(uuid: string, runtimeDir: string): number[] {
  const pids: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(uuid) && cmdline.includes(runtimeDir) && cmdline.includes('-uuid')) pids.push(Number(pid));
    } catch {
      // gone
    }
  }
  return pids;
}

/** The `-m` option a QEMU runs with (its RAM: TCG's pad included). */
function ramOption(pid: number): string | undefined {
  const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return args[args.indexOf('-m') + 1];
}

/** guestSays for a machine on lab: typed through `vmdesk --host lab send`, read from lab's serial.log. */
async function labSays(name: string, line: string, answer: RegExp, timeoutS = 60): Promise<string> {
  const { dir } = JSON.parse(await ok(['--host', 'lab', 'show', name, '--json'])) as { dir: string };
  const log = path.join(dir, 'logs', 'serial.log');
  const from = fs.statSync(log).size;
  await ok(['--host', 'lab', 'send', name, `${line}\\n`]);
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const text = fs.readFileSync(log).subarray(from).toString('latin1');
    const found = answer.exec(text);
    if (found) return found[0];
    if (Date.now() > deadline) throw new Error(`${name} on lab did not print ${String(answer)}:\n${text.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The `tick N` numbers of whole lines in a serial log. */
function ticks(text: string): number[] {
  return [...text.matchAll(/tick (\d+)\r?\n/g)].map((m) => Number(m[1]));
}

/**
 * Follows a serial.log while it grows (and while it does not exist yet, or no longer): when each
 * whole `tick N` line was first seen, to the polling interval.
 */
class TickWatch {
  readonly seen = new Map<number, number>();
  private offset = 0;
  private rest = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string) {
    this.timer = setInterval(() => this.poll(), 20);
  }

  poll(): void {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.file);
    } catch {
      return;
    }
    if (data.length < this.offset) [this.offset, this.rest] = [0, ''];
    const lines = (this.rest + data.subarray(this.offset).toString('latin1')).split('\n');
    this.offset = data.length;
    this.rest = lines.pop() ?? '';
    const now = Date.now();
    for (const line of lines) {
      const m = /tick (\d+)\r?$/.exec(line);
      if (m && !this.seen.has(Number(m[1]))) this.seen.set(Number(m[1]), now);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }
}

async function boot(name: string): Promise<void> {
  await ok(['start', name]);
  await ok(['wait', name, '--text', PROMPT, '--timeout', '120']);
}

interface Migrating {
  child: ChildProcess;
  /** Its stderr so far. */
  stderr: () => string;
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
}

/**
 * `vmdesk migrate NAME --to lab --bandwidth MIBS` as a child: once its stderr matches `until` (or it
 * has exited; within timeoutMs), `then` runs with it. The child is killed if it still runs after;
 * resolves with its stderr.
 */
async function duringMigration(
  name: string,
  bandwidthMiBs: number,
  until: RegExp,
  timeoutMs: number,
  then: (migrating: Migrating) => Promise<void>,
): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'migrate', name, '--to', 'lab', '--bandwidth', String(bandwidthMiBs)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await eventually(
      () => Promise.resolve(stderr),
      (t) => until.test(t) || child.exitCode !== null,
      timeoutMs,
    );
    await then({ child, stderr: () => stderr, exited });
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  return stderr;
}

beforeAll(async () => {
  if (unavailable) return;
  host = await startSshHost({ name: 'lab' });
  sb = makeSandbox();
  env = { ...sb.env, VMDESK_SSH_CONFIG: host.sshConfig };
  await ok([
    'hosts',
    'add',
    'lab',
    host.alias,
    '--remote-home',
    host.remoteHome,
    '--remote-command',
    host.remoteCommand,
    '--accept-host-key',
    host.fingerprint,
  ]);
});

afterAll(async () => {
  await sb?.cleanup();
  await host?.stop();
});

describe('live migration to a remote host', () => {
  it('moves a running guest with its RAM, its disk and its serial output, and leaves nothing of it here', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await ok(['create', 'mover', '--demo', '--memory', '128', '--disk', '64M']);
    await boot('mover');
    const { uuid, dir } = JSON.parse(await ok(['show', 'mover', '--json'])) as { uuid: string; dir: string };
    const bootId = await guestSays(
      sb,
      'mover',
      'cat /proc/sys/kernel/random/boot_id',
      /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/,
      30,
    );
    await guestSays(sb, 'mover', 'echo before > /tmp/x && echo saved-$((6*7))', 'saved-42', 30);
    // On the disk itself (fsync), not only in the guest's page cache, which travels with the RAM.
    await guestSays(
      sb,
      'mover',
      'echo MARK-$((1000+234)) | dd of=/dev/vda bs=512 seek=100 conv=fsync 2>/dev/null && echo written-$((2*3))',
      'written-6',
      30,
    );
    await guestSays(sb, 'mover', 'i=0; while true; do echo tick $i; i=$((i+1)); usleep 100000; done &', /tick 5\r?\n/, 30);

    const [sourceQemu] = qemuOf(uuid, sb.runtime);
    const sourceRam = ramOption(sourceQemu ?? 0);
    expect(sourceRam).toMatch(/^size=\d+[KM]$/);
    const sourceWatch = new TickWatch(path.join(dir, 'logs', 'serial.log'));
    const destWatch = new TickWatch(path.join(host.remoteHome, 'machines', 'mover', 'logs', 'serial.log'));
    let migrated: CliResult;
    let lastBefore: number;
    try {
      lastBefore = Math.max(...ticks(await ok(['log', 'mover'])));
      migrated = await cli(['migrate', 'mover', '--to', 'lab', '--json']);
      // A few more ticks on lab.
      await eventually(
        () => Promise.resolve(destWatch.poll()),
        () => destWatch.seen.size >= 10,
        15_000,
      );
    } finally {
      sourceWatch.stop();
      destWatch.stop();
    }
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stderr).toBe('');
    const outcome = JSON.parse(migrated.stdout) as Outcome;
    expect(outcome).toMatchObject({ name: 'mover', to: 'lab' });
    expect(outcome.rounds.length).toBeGreaterThanOrEqual(1);
    // QEMU before 9.0 says "completed" a moment before it has computed the downtime (0 until then).
    expect(outcome.downtimeMs, 'the downtime QEMU measured').toBeGreaterThan(0);
    expect(outcome.ramBytes).toBeGreaterThan(0);
    // QEMU 7.2 counts what it sent while the guest was paused: the devices' state at least, never more than all.
    expect(outcome.ramDowntimeBytes).toBeGreaterThan(0);
    expect(outcome.ramDowntimeBytes).toBeLessThanOrEqual(outcome.ramBytes);
    expect(outcome.diskBytes).toBe(64 * 1024 * 1024);

    // On lab: the same machine, running, the same boot with the same RAM and disk.
    const there = (await machines('lab')).find((m) => m.config.name === 'mover');
    expect(there).toMatchObject({ uuid, status: { state: 'running' } });
    const destQemu = qemuOf(uuid, host.remoteRuntime);
    expect(destQemu).toHaveLength(1);
    // The RAM the source had, sent with the machine: a stream loads only into RAM of its own size.
    expect(ramOption(destQemu[0] ?? 0)).toBe(sourceRam);
    expect(await labSays('mover', 'cat /proc/sys/kernel/random/boot_id', /[0-9a-f]{8}-[0-9a-f-]{27}/)).toBe(bootId);
    expect(await labSays('mover', 'cat /tmp/x', /\nbefore\r?\n/)).toMatch(/before/);
    expect(
      await labSays(
        'mover',
        'sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | head -n 1',
        /MARK-\d+/,
      ),
    ).toBe('MARK-1234');

    // The counter went on there from where it was, without losing a line, after a pause no longer than the downtime (+1 s).
    const lastSource = Math.max(...sourceWatch.seen.keys());
    const firstDest = Math.min(...destWatch.seen.keys());
    expect(lastSource).toBeGreaterThanOrEqual(lastBefore);
    expect(Math.max(...ticks(await ok(['--host', 'lab', 'log', 'mover'])))).toBeGreaterThan(lastBefore);
    expect(firstDest).toBeGreaterThan(lastBefore);
    // Nothing printed twice, and nothing lost but, at most, the one line the switchover cut in two (whole on neither side).
    expect(firstDest).toBeGreaterThan(lastSource);
    expect(firstDest).toBeLessThanOrEqual(lastSource + 2);
    const gapMs = (destWatch.seen.get(firstDest) ?? 0) - (sourceWatch.seen.get(lastSource) ?? 0);
    expect(gapMs).toBeLessThanOrEqual((outcome.downtimeMs ?? 0) + 1000);

    // Nothing of it here: not listed, no folder, no QEMU.
    expect((await machines('local')).map((m) => m.config.name)).not.toContain('mover');
    expect(fs.existsSync(dir)).toBe(false);
    expect(qemuOf(uuid, sb.runtime)).toEqual([]);
  });

  it('refuses a stopped machine, a name lab already has and a linked clone, changing nothing on either side', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await ok(['create', 'idle', '--demo', '--memory', '64', '--disk', '16M']);
    await ok(['--host', 'lab', 'create', 'clash', '--demo', '--memory', '64', '--disk', '16M']);
    await ok(['create', 'clash', '--demo', '--memory', '64', '--disk', '16M']);
    await ok(['start', 'clash']);

    /** Refused before anything starts, for that one problem alone: exit 5 and nothing changed on either side. */
    const refused = async (name: string, problem: RegExp): Promise<void> => {
      const before = await bothSides();
      const r = await cli(['migrate', name, '--to', 'lab']);
      expect(r.code, r.stderr).toBe(5);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      const header = lines.findIndex((l) => l.endsWith(`${name} cannot migrate to lab:`));
      expect(header, r.stderr).toBeGreaterThanOrEqual(0);
      expect(lines.slice(header + 1)).toEqual([expect.stringMatching(problem)]);
      expect(await bothSides()).toBe(before);
    };
    await refused('idle', /idle is stopped: live migration moves a running machine/);
    await refused('clash', /lab already has a machine named clash/);

    await ok(['snapshot', 'idle', 'take', 'base']);
    await ok(['clone', 'idle', 'idle-linked', '--linked', '--snapshot', 'base']);
    await ok(['start', 'idle-linked']);
    await refused('idle-linked', /disk0 is a linked clone: it reads from .*idle.* which stays on this host — make a full clone/);
    await ok(['stop', 'idle-linked', '--force']);

    await ok(['stop', 'clash', '--force']);
  });

  it('moves a running machine live with its snapshots: the frozen images travel, the overlay is mirrored, a restore works there', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await ok(['create', 'layered', '--demo', '--memory', '128', '--disk', '32M']);
    await ok(['snapshot', 'layered', 'take', 'base']);
    await boot('layered');
    await guestSays(
      sb,
      'layered',
      'echo LAYER-77 | dd of=/dev/vda bs=512 seek=200 conv=fsync 2>/dev/null; echo wrote-$((5*5))',
      'wrote-25',
      30,
    );
    const { uuid } = JSON.parse(await ok(['show', 'layered', '--json'])) as { uuid: string };
    const outcome = JSON.parse(await ok(['migrate', 'layered', '--to', 'lab', '--json'], 180_000)) as Outcome;
    expect(outcome.name).toBe('layered');
    expect((await machines('lab')).find((m) => m.uuid === uuid)?.status.state).toBe('running');
    // The data written after the snapshot (in the mirrored overlay) reads back there, past the page cache.
    await ok([
      '--host',
      'lab',
      'send',
      'layered',
      'sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=512 skip=200 count=1 2>/dev/null | head -c 8; echo\n',
    ]);
    await eventually(
      () => ok(['--host', 'lab', 'log', 'layered']),
      (log) => log.includes('LAYER-77'),
      30_000,
    );
    expect(await ok(['--host', 'lab', 'snapshot', 'layered', 'list'])).toMatch(/base/);
    // Back to the snapshot there: the machine as it was before the write, from the image that travelled.
    await ok(['--host', 'lab', 'stop', 'layered', '--force']);
    await ok(['--host', 'lab', 'snapshot', 'layered', 'restore', 'base']);
    await ok(['--host', 'lab', 'start', 'layered']);
    await ok(['--host', 'lab', 'wait', 'layered', '--text', PROMPT, '--timeout', '120']);
    await ok([
      '--host',
      'lab',
      'send',
      'layered',
      'dd if=/dev/vda bs=512 skip=200 count=1 2>/dev/null | od -c | head -1; echo read-$((7*7))\n',
    ]);
    const log = await eventually(
      () => ok(['--host', 'lab', 'log', 'layered']),
      (l) => l.includes('read-49'),
      30_000,
    );
    expect(log.slice(log.lastIndexOf('od -c'))).not.toContain('L   A   Y   E   R');
    await ok(['--host', 'lab', 'stop', 'layered', '--force']);
  });

  it('moves a stopped machine offline with its snapshots, which work there', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await ok(['create', 'shelf', '--demo', '--memory', '128', '--disk', '32M']);
    await ok(['snapshot', 'shelf', 'take', 'first']);
    await ok(['snapshot', 'shelf', 'take', 'second']);
    const { uuid } = JSON.parse(await ok(['show', 'shelf', '--json'])) as { uuid: string };
    const files = tree(path.join(sb.home, 'machines', 'shelf')).filter((f) => !f.startsWith('logs'));
    const outcome = JSON.parse(await ok(['migrate', 'shelf', '--to', 'lab', '--offline', '--json'])) as Outcome;
    expect(outcome).toMatchObject({ name: 'shelf', to: 'lab', rounds: [] });
    expect((await machines('local')).map((m) => m.config.name)).not.toContain('shelf');
    expect(fs.existsSync(path.join(sb.home, 'machines', 'shelf'))).toBe(false);
    // Every file came (the owner marker of the transfer is gone), the tree and its images with them.
    expect(tree(path.join(host.remoteHome, 'machines', 'shelf')).filter((f) => !f.startsWith('logs'))).toEqual(files);
    expect((await machines('lab')).find((m) => m.uuid === uuid)?.status.state).toBe('stopped');
    const tree2 = await ok(['--host', 'lab', 'snapshot', 'shelf', 'list']);
    expect(tree2).toMatch(/first[\s\S]*second/);
    await ok(['--host', 'lab', 'snapshot', 'shelf', 'restore', 'first']);
    await ok(['--host', 'lab', 'start', 'shelf']);
    await ok(['--host', 'lab', 'wait', 'shelf', '--text', PROMPT, '--timeout', '75']);
    await ok(['--host', 'lab', 'stop', 'shelf', '--force']);
  });

  it('kill -9 of the destination QEMU half-way: the machine runs on here, nothing left there', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await ok(['create', 'victim', '--demo', '--memory', '128']);
    await boot('victim');
    const { uuid } = JSON.parse(await ok(['show', 'victim', '--json'])) as { uuid: string };
    const labBefore = tree(path.join(host.remoteHome, 'machines'));
    const stderr = await duringMigration('victim', 2, /Round \d+: /, 60_000, async ({ exited }) => {
      const [pid] = qemuOf(uuid, host.remoteRuntime);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid ?? -1, 'SIGKILL');
      expect(await exited).toBe(8);
    });
    expect(stderr).toMatch(/migration failed/i);
    expect((await machines('local')).find((m) => m.uuid === uuid)?.status.state).toBe('running');
    await guestSays(sb, 'victim', 'echo $((6*7))', /\r?\n42\r?\n/, 30);
    const left = await eventually(
      () => Promise.resolve(tree(path.join(host.remoteHome, 'machines'))),
      (files) => JSON.stringify(files) === JSON.stringify(labBefore),
      20_000,
    );
    expect(left).toEqual(labBefore);
    await ok(['stop', 'victim', '--force']);
  });

  it('a guest dirtying memory faster than the link: "not converging" is shown, a raised max downtime completes it', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await ok(['create', 'hot', '--demo', '--memory', '128']);
    await boot('hot');
    await guestSays(sb, 'hot', 'dd if=/dev/urandom of=/tmp/r bs=1M count=8 2>/dev/null && echo ready-$((3*3))', 'ready-9', 60);
    await guestSays(sb, 'hot', '(while true; do cp /tmp/r /tmp/d; done) & echo looping-$((4*4))', 'looping-16', 30);
    await duringMigration('hot', 16, /not converging/, 90_000, async ({ child, stderr, exited }) => {
      expect(stderr()).toMatch(/Round \d+: .* not converging: raise the max downtime, turn on auto-converge or raise the bandwidth/);
      child.kill('SIGINT');
      expect(await exited).toBe(11);
    });
    // The same link, with room for a longer stop-and-copy: it completes.
    const outcome = JSON.parse(
      await ok(['migrate', 'hot', '--to', 'lab', '--bandwidth', '16', '--max-downtime', '15000', '--json'], 180_000),
    ) as Outcome;
    expect(outcome.rounds.length).toBeGreaterThanOrEqual(1);
    expect((await machines('lab')).find((m) => m.config.name === 'hot')?.status.state).toBe('running');
    await ok(['--host', 'lab', 'stop', 'hot', '--force']);
  }, 240_000);

  // SIGINT: the user's Ctrl-C cancels the task. SIGKILL: the VMDesk driving the migration dies; the
  // machine's agent here and the VMDesk there settle it between them.
  for (const [signal, what] of [
    ['SIGINT', 'Ctrl-C'],
    ['SIGKILL', 'the death of the migrating VMDesk'],
  ] as const)
    it(`${what} half-way through a slow migration leaves the machine running here and nothing of it on lab`, async (ctx) => {
      if (unavailable) skipBecause(ctx, unavailable);
      const name = `busy-${signal.toLowerCase()}`;
      await ok(['create', name, '--demo', '--memory', '128', '--disk', '16M']);
      await boot(name);
      const { uuid } = JSON.parse(await ok(['show', name, '--json'])) as { uuid: string };
      // Memory dirtied faster than 1 MiB/s sends it: 8 MiB of random bytes copied over and over in
      // tmpfs. (16 MiB, two copies in a 128 MiB guest whose root is its initramfs, sometimes left the
      // kernel no memory at all: "System is deadlocked on memory", a panic that looked like a guest
      // frozen by the cancel.)
      await guestSays(sb, name, 'dd if=/dev/urandom of=/tmp/r bs=1M count=8 2>/dev/null && echo ready-$((3*3))', 'ready-9', 60);
      await guestSays(sb, name, '(while true; do cp /tmp/r /tmp/d; done) & echo looping-$((4*4))', 'looping-16', 30);

      const labMachines = path.join(host.remoteHome, 'machines');
      const labBefore = tree(labMachines);
      await duringMigration(name, 1, /Round \d+: /, 60_000, async ({ child, stderr, exited }) => {
        expect(stderr()).toMatch(/Round \d+: \d+ MiB sent/);
        // Half-way: lab has the copy waiting, its QEMU receiving.
        expect(fs.existsSync(path.join(host.remoteHome, 'machines', name))).toBe(true);
        expect(qemuOf(uuid, host.remoteRuntime)).toHaveLength(1);
        child.kill(signal);
        const code = await exited;
        if (signal === 'SIGINT') {
          expect(code, stderr()).toBe(11);
          expect(stderr()).toMatch(/cancelled/i);
        }
      });

      // Here: still running, and answering.
      const here = (await machines('local')).find((m) => m.config.name === name);
      expect(here).toMatchObject({ uuid, status: { state: 'running' } });
      expect(qemuOf(uuid, sb.runtime)).toHaveLength(1);
      await guestSays(sb, name, 'echo $((6*7))', /\r?\n42\r?\n/, 30);

      // There: no folder (lab's library as it was), no QEMU, not listed.
      const leftovers = await eventually(
        () => Promise.resolve({ files: tree(labMachines), qemu: qemuOf(uuid, host.remoteRuntime) }),
        (l) => l.qemu.length === 0 && JSON.stringify(l.files) === JSON.stringify(labBefore),
        20_000,
      );
      expect(leftovers).toEqual({ files: labBefore, qemu: [] });
      expect((await machines('lab')).map((m) => m.config.name)).not.toContain(name);
      // Neither of the command's SSH connections to lab outlives it (the main one, nor the one its
      // streams took).
      const masters = await eventually(
        () => Promise.resolve(sshMasters(sb.runtime)),
        (list) => list.length === 0,
        10_000,
      );
      expect(masters).toEqual([]);
    });
});
