// Snapshots and saved states of the demo guest through the real CLI (each command a new core
// process, so everything shown here also survives a restart of VMDesk): a live snapshot brings back
// both disk and memory, a middle snapshot can be deleted, save-state resumes the shell.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../core/core.js';
import { makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
const VM = 'snap';
let sb: Sandbox;
let marker = 0;

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

/**
 * Run a shell line in the guest and return what it printed: the output is framed by markers made
 * with $((…)) so the echoed command line itself never matches.
 */
async function guest(line: string, timeout = 60): Promise<string> {
  marker += 1;
  const n = 1000 + marker;
  await ok(sb, ['send', VM, `echo b-$((${n}+0)); ${line}; echo e-$((${n}+0))\\n`]);
  await ok(sb, ['wait', VM, '--text', `\ne-${n}`, '--timeout', String(timeout)]);
  const log = await ok(sb, ['log', VM]);
  const start = log.lastIndexOf(`\nb-${n}`);
  const end = log.lastIndexOf(`\ne-${n}`);
  return log.slice(start + `\nb-${n}`.length, end).replace(/\r/g, '');
}

/** Whether the guest has these files on its disk and what $V holds. */
async function guestState(): Promise<{ v: string; files: string[] }> {
  const out = await guest('echo "v=$V"; echo files: $(ls /mnt)');
  const v = /v=(\S*)/.exec(out)?.[1] ?? '';
  const files = (/files:(.*)/.exec(out)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  return { v, files: files.filter((f) => f !== 'lost+found').sort() };
}

interface Tree {
  currentId: string | null;
  savedState: boolean;
  roots: Array<{ id: string; name: string; kind: string; current: boolean; description: string; children: Tree['roots'] }>;
}

async function tree(): Promise<Tree> {
  return JSON.parse(await ok(sb, ['snapshot', VM, 'list', '--json'])) as Tree;
}

function flatten(nodes: Tree['roots'], depth = 0): string[] {
  return nodes.flatMap((n) => [`${'-'.repeat(depth)}${n.name}${n.current ? '*' : ''}`, ...flatten(n.children, depth + 1)]);
}

/** The pids of the machine's agent and QEMU, from its runtime dir. */
function pids(): { agent: number; qemu: number } {
  const { uuid } = JSON.parse(fs.readFileSync(path.join(sb.home, 'machines', VM, 'machine.json'), 'utf8')) as { uuid: string };
  const read = (file: string): number => Number(fs.readFileSync(path.join(sb.runtime, uuid, file), 'utf8').trim());
  return { agent: read('agent.pid'), qemu: read('qemu.pid') };
}

function snapshotFiles(name: string): { disk: string; vmstate: string } {
  const data = JSON.parse(fs.readFileSync(path.join(sb.home, 'machines', VM, 'snapshots.json'), 'utf8')) as {
    snapshots: Array<{ name: string; disks: Array<{ file: string }>; vmstate?: string }>;
  };
  const snap = data.snapshots.find((s) => s.name === name);
  return {
    disk: path.join(sb.home, 'machines', VM, snap?.disks[0]?.file ?? 'x'),
    vmstate: path.join(sb.home, 'machines', VM, snap?.vmstate ?? 'x'),
  };
}

async function state(): Promise<{ state: string; savedState: boolean }> {
  const m = JSON.parse(await ok(sb, ['show', VM, '--json'])) as { status: { state: string }; savedState?: boolean };
  return { state: m.status.state, savedState: m.savedState === true };
}

describe('snapshots of the demo VM through the CLI', () => {
  it('boots the demo VM, formats its disk and writes a file and a variable', async () => {
    await ok(sb, ['create', VM, '--demo']);
    await ok(sb, ['start', VM]);
    await ok(sb, ['wait', VM, '--text', PROMPT, '--timeout', '120']);
    await guest('mke2fs -q /dev/vda && mount /dev/vda /mnt && echo 1 > /mnt/before && V=alpha && sync');
    expect(await guestState()).toEqual({ v: 'alpha', files: ['before'] });
  });

  it('takes a live snapshot: the guest goes on where it was', async () => {
    const out = await ok(sb, ['snapshot', VM, 'take', 'one', '--description', 'after mkfs'], { timeoutMs: 180_000 });
    expect(out).toMatch(/Took live snapshot "one"/);
    expect((await state()).state).toBe('running');
    expect(await guestState()).toEqual({ v: 'alpha', files: ['before'] });
    const t = await tree();
    expect(t.roots).toHaveLength(1);
    expect(t.roots[0]).toMatchObject({ name: 'one', kind: 'live', current: true, description: 'after mkfs' });
    // The disk now writes to an overlay whose backing file is recorded relative to it.
    const config = JSON.parse(fs.readFileSync(path.join(sb.home, 'machines', VM, 'machine.json'), 'utf8')) as {
      disks: Array<{ file: string }>;
    };
    expect(config.disks[0]?.file).toMatch(/^snapshots\/[0-9a-f-]{36}\.qcow2$/);
  });

  it('resumes a guest left paused mid-save by a killed process: the save QEMU still streams is cancelled first', async () => {
    // What a process killed during a live snapshot leaves: the guest paused, QEMU still migrating
    // its state into a writer (here one that starts reading only after 4 s).
    const core = new Core({ home: sb.home, env: sb.env });
    await core.pause(VM);
    const record = await core.library.find(VM);
    const client = await core.runtime.connect(record.config, record.dir);
    const qmp = <T>(command: string, args?: Record<string, unknown>): Promise<T> =>
      client.request<T>(args ? { op: 'qmp', command, args } : { op: 'qmp', command });
    try {
      await qmp('migrate', { uri: 'exec:sleep 4; cat > /dev/null' });
      expect((await qmp<{ status: string }>('query-migrate')).status).toMatch(/^(setup|active)$/);
      expect((await core.resumeInterrupted(VM)).state).toBe('running');
      expect((await qmp<{ status: string }>('query-migrate')).status).toBe('cancelled');
    } finally {
      client.close();
    }
    // Had the save gone on, its end would have stopped the guest again, its disk handed over.
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await state()).state).toBe('running');
    expect(await guestState()).toEqual({ v: 'alpha', files: ['before'] });
  });

  it('refuses a snapshot name that exists and an unknown snapshot, changing nothing', async () => {
    const before = fs.readFileSync(path.join(sb.home, 'machines', VM, 'snapshots.json'), 'utf8');
    const dup = await vmdesk(sb, ['snapshot', VM, 'take', 'one']);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toMatch(/already has a snapshot named "one"/);
    const unknown = await vmdesk(sb, ['snapshot', VM, 'restore', 'nope']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/No snapshot named "nope"/);
    const unknownDelete = await vmdesk(sb, ['snapshot', VM, 'delete', 'nope']);
    expect(unknownDelete.code).toBe(3);
    expect(fs.readFileSync(path.join(sb.home, 'machines', VM, 'snapshots.json'), 'utf8')).toBe(before);
    expect((await state()).state).toBe('running');
  });

  it('restores the live snapshot of a running machine in place: disk and memory come back, under the same agent', async () => {
    await guest('echo 2 > /mnt/after && V=beta && sync');
    expect(await guestState()).toEqual({ v: 'beta', files: ['after', 'before'] });
    const before = pids();
    const r = await vmdesk(sb, ['snapshot', VM, 'restore', 'one'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/discarded/);
    expect((await state()).state).toBe('running');
    // The agent relaunched its QEMU: a new QEMU, the same agent process.
    const after = pids();
    expect(after.agent).toBe(before.agent);
    expect(after.qemu).not.toBe(before.qemu);
    expect(fs.existsSync(`/proc/${before.qemu}`)).toBe(false);
    expect(await guestState()).toEqual({ v: 'alpha', files: ['before'] });
  });

  it('a restore that cannot make its files leaves the running machine as it was and says why', async () => {
    const { disk } = snapshotFiles('one');
    const before = pids();
    fs.renameSync(disk, `${disk}.away`);
    try {
      const r = await vmdesk(sb, ['snapshot', VM, 'restore', 'one'], { timeoutMs: 180_000 });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(path.basename(disk));
    } finally {
      fs.renameSync(`${disk}.away`, disk);
    }
    expect((await state()).state).toBe('running');
    expect(pids()).toEqual(before);
    expect(await guestState()).toEqual({ v: 'alpha', files: ['before'] });
  });

  it('refuses to restore while another VMDesk process holds the machine lock', async () => {
    let holder: ChildProcess | null = null;
    const lock = path.join(sb.home, 'machines', VM, 'machine.lock');
    try {
      holder = spawn('sleep', ['120'], { stdio: 'ignore' });
      await new Promise((r) => holder?.once('spawn', r));
      const pid = holder.pid ?? 0;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      fs.writeFileSync(lock, JSON.stringify({ pid, start, purpose: 'cloning the machine' }));
      const r = await vmdesk(sb, ['snapshot', VM, 'restore', 'one']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/Busy: another VMDesk process .* cloning the machine/);
      // Nothing was powered off.
      expect((await state()).state).toBe('running');
    } finally {
      fs.rmSync(lock, { force: true });
      holder?.kill('SIGKILL');
    }
    expect(await guestState()).toEqual({ v: 'alpha', files: ['before'] });
  });

  it('deletes a middle snapshot; the ones around it still restore', async () => {
    await guest('echo 3 > /mnt/two && V=two && sync');
    await ok(sb, ['snapshot', VM, 'take', 'two'], { timeoutMs: 180_000 });
    await guest('echo 4 > /mnt/three && V=three && sync');
    await ok(sb, ['snapshot', VM, 'take', 'three'], { timeoutMs: 180_000 });
    await guest('echo 5 > /mnt/later && V=later && sync');
    expect(flatten((await tree()).roots)).toEqual(['one', '-two', '--three*']);

    // The running machine's disks rest on "two": deleting it needs the machine stopped.
    const busy = await vmdesk(sb, ['snapshot', VM, 'delete', 'two']);
    expect(busy.code).toBe(5);
    expect(busy.stderr).toMatch(/Stop snap to delete snapshot "two"/);
    await ok(sb, ['stop', VM, '--force']);

    const frozen = JSON.parse(fs.readFileSync(path.join(sb.home, 'machines', VM, 'snapshots.json'), 'utf8')) as {
      snapshots: Array<{ name: string; disks: Array<{ file: string }>; vmstate?: string }>;
    };
    const two = frozen.snapshots.find((s) => s.name === 'two');
    expect(await ok(sb, ['snapshot', VM, 'delete', 'two'], { timeoutMs: 180_000 })).toMatch(/Deleted snapshot "two"/);
    expect(flatten((await tree()).roots)).toEqual(['one', '-three*']);
    // Its files are gone.
    for (const f of [...(two?.disks.map((d) => d.file) ?? []), two?.vmstate ?? 'x']) {
      expect(fs.existsSync(path.join(sb.home, 'machines', VM, f))).toBe(false);
    }

    await ok(sb, ['snapshot', VM, 'restore', 'three'], { timeoutMs: 180_000 });
    expect((await state()).savedState).toBe(true);
    await ok(sb, ['start', VM], { timeoutMs: 180_000 });
    expect(await guestState()).toEqual({ v: 'three', files: ['before', 'three', 'two'] });

    await ok(sb, ['snapshot', VM, 'restore', 'one'], { timeoutMs: 180_000 });
    expect(await guestState()).toEqual({ v: 'alpha', files: ['before'] });
    expect(flatten((await tree()).roots)).toEqual(['one*', '-three']);
  });

  it('saves the state of a running machine and resumes the shell with its variables', async () => {
    await guest('V=saved && echo 6 > /mnt/saved && sync');
    expect(await ok(sb, ['save-state', VM], { timeoutMs: 180_000 })).toMatch(/Saved the state of snap/);
    expect(await state()).toEqual({ state: 'stopped', savedState: true });
    expect((await tree()).savedState).toBe(true);
    expect(await ok(sb, ['list'])).toMatch(/\nsnap\s+saved\s/);
    await ok(sb, ['start', VM], { timeoutMs: 180_000 });
    expect(await state()).toEqual({ state: 'running', savedState: false });
    expect(await guestState()).toEqual({ v: 'saved', files: ['before', 'saved'] });
    // The state file was used up.
    expect(fs.readdirSync(path.join(sb.home, 'machines', VM, 'snapshots')).filter((f) => f.endsWith('.vmstate'))).toHaveLength(2);
  });

  it('discards a saved state: the next start boots afresh', async () => {
    await ok(sb, ['save-state', VM], { timeoutMs: 180_000 });
    const bad = await vmdesk(sb, ['discard-state', 'no-such-vm']);
    expect(bad.code).toBe(3);
    await ok(sb, ['discard-state', VM]);
    expect(await state()).toEqual({ state: 'stopped', savedState: false });
    const again = await vmdesk(sb, ['discard-state', VM]);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/has no saved state/);
    await ok(sb, ['start', VM]);
    await ok(sb, ['wait', VM, '--text', PROMPT, '--timeout', '120']);
    expect((await guestState()).v).toBe('');
  });

  it("a RAM state that does not load: the restore says why; the machine, crashed, keeps the snapshot's disks until its state is discarded", async () => {
    await guest('V=kept && sync');
    await ok(sb, ['snapshot', VM, 'take', 'truncated'], { timeoutMs: 180_000 });
    const { vmstate } = snapshotFiles('truncated');
    fs.truncateSync(vmstate, Math.floor(fs.statSync(vmstate).size / 2));
    const r = await vmdesk(sb, ['snapshot', VM, 'restore', 'truncated'], { timeoutMs: 180_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/QEMU failed to start: [^]*(load of migration failed|Cannot load the saved state)/);
    expect(r.stderr).toMatch(/could not resume from its saved state; to boot it afresh: vmdesk discard-state snap/);
    expect(await state()).toEqual({ state: 'crashed', savedState: true });
    await ok(sb, ['discard-state', VM]);
    await ok(sb, ['start', VM]);
    await ok(sb, ['wait', VM, '--text', PROMPT, '--timeout', '120']);
    expect((await guestState()).v).toBe('');
    await ok(sb, ['stop', VM, '--force']);
  });
});
