// Races between VMDesk processes on one machine: an agent killed under a request, delete against
// start, two starts (CLI and the served UI's WebSocket), two machines on one image, many modifies.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmRuntime } from '../core/vm/vm-runtime.js';
import { makeSandbox, ok, vmdesk, type CliResult, type Sandbox } from './harness.js';
import { openApi, serve, type ApiReply } from './serve-api.js';

let sb: Sandbox;

interface Shown {
  uuid: string;
  dir: string;
  config: { cpus: number; memoryMiB: number; notes: string; osType: string; bootOrder: string[] };
  status: { state: string; orphaned?: boolean; qemuPid?: number };
}

async function show(name: string): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
}

function pidOf(uuid: string, file: 'agent.pid' | 'qemu.pid'): number {
  return Number(fs.readFileSync(path.join(sb.runtime, uuid, file), 'utf8').trim());
}

/** Every pid whose command line mentions `text` (QEMUs name their machine's uuid). */
function processesWith(text: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return /qemu-system/.test(argv[0] ?? '') && argv.some((a) => a.includes(text));
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

describe('an agent killed -9', () => {
  it('reads as running, and pause, resume and ACPI stop right after the kill re-adopt at once', async () => {
    await ok(sb, ['create', 'orphan', '--demo']);
    await ok(sb, ['start', 'orphan']);
    const { uuid } = await show('orphan');
    const qemuPid = pidOf(uuid, 'qemu.pid');
    const runtime = new VmRuntime(sb.env);
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        seen.add(runtime.status(uuid).state);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const refusals: string[] = [];
    const trials = 8;
    for (let i = 0; i < trials; i++) {
      for (const verb of ['pause', 'resume']) {
        process.kill(pidOf(uuid, 'agent.pid'), 'SIGKILL');
        const r = await vmdesk(sb, [verb, 'orphan']);
        if (r.code !== 0) refusals.push(`${verb}: ${r.stderr.trim()}`);
      }
    }
    expect(refusals, `${refusals.length} of ${trials * 2} refused`).toEqual([]);
    // The guest may still be booting: its ACPI support answers once the kernel is up.
    await ok(sb, ['wait', 'orphan', '--text', 'vmdesk-demo# ', '--timeout', '90']);
    process.kill(pidOf(uuid, 'agent.pid'), 'SIGKILL');
    const stop = await vmdesk(sb, ['stop', 'orphan', '--timeout', '60']);
    watching = false;
    await watcher;
    expect(stop.code, stop.stderr).toBe(0);
    expect(processesWith(uuid)).not.toContain(qemuPid);
    // What the state said meanwhile: never "starting" (QEMU had started long before).
    expect([...seen].filter((s) => !['running', 'paused', 'stopping', 'stopped'].includes(s))).toEqual([]);
  });
});

describe('an agent that dies under a request', () => {
  it('is replaced and the request made once more: pause and resume succeed, never "stopped while in progress"', async () => {
    await ok(sb, ['create', 'dying', '--demo']);
    await ok(sb, ['start', 'dying']);
    const { uuid } = await show('dying');
    for (const [verb, state] of [
      ['pause', 'paused'],
      ['resume', 'running'],
    ] as const) {
      // Stopped, the agent still accepts the connection and the request, and never answers: the
      // request is in flight when the kill ends it.
      const agent = pidOf(uuid, 'agent.pid');
      process.kill(agent, 'SIGSTOP');
      const request = vmdesk(sb, [verb, 'dying']);
      await new Promise((r) => setTimeout(r, 1_500));
      process.kill(agent, 'SIGKILL');
      const r = await request;
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect((await show('dying')).status.state).toBe(state);
      expect(pidOf(uuid, 'agent.pid')).not.toBe(agent);
    }
    expect(processesWith(uuid)).toHaveLength(1);
    await ok(sb, ['stop', 'dying', '--force']);
  });
});

describe('delete racing start', () => {
  it('one wins cleanly, the other exits 5 or 6; nothing is left half-deleted', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const name = `race${i}`;
      await ok(sb, ['create', name, '--demo']);
      const { uuid, dir } = await show(name);
      // Half the trials give delete a head start, half give it to start.
      const [first, second] = i % 2 === 0 ? (['delete', 'start'] as const) : (['start', 'delete'] as const);
      const a = vmdesk(sb, [first, name]);
      await new Promise((r) => setTimeout(r, (i % 3) * 40));
      const b = vmdesk(sb, [second, name]);
      const results: Record<string, CliResult> = { [first]: await a, [second]: await b };
      const del = results.delete as CliResult;
      const start = results.start as CliResult;
      outcomes.push(`delete ${del.code} start ${start.code}`);
      const listed = (JSON.parse(await ok(sb, ['list', '--json'])) as Array<{ uuid: string }>).some((m) => m.uuid === uuid);
      if (del.code === 0) {
        // 3 (no such machine) when the delete was over before the start looked the name up.
        expect([3, 5, 6], `start: ${start.stderr}`).toContain(start.code);
        expect(listed).toBe(false);
        expect(fs.existsSync(dir)).toBe(false);
        expect(processesWith(uuid)).toEqual([]);
      } else {
        expect(start.code, start.stderr).toBe(0);
        expect([5, 6], `delete: ${del.stderr}`).toContain(del.code);
        expect(listed).toBe(true);
        expect((await show(name)).status.state).toBe('running');
        await ok(sb, ['stop', name, '--force']);
        await ok(sb, ['delete', name]);
        expect(fs.existsSync(dir)).toBe(false);
      }
    }
    expect(outcomes.length).toBe(6);
  });
});

describe('many writers of one machine.json', () => {
  it('concurrent modifies from several processes, each changing another field, lose no update', async () => {
    await ok(sb, ['create', 'many', '--demo']);
    for (let round = 0; round < 3; round++) {
      const changes: Array<
        [string[], (c: Shown['config'] & { display?: { adapter: string }; serial?: { enabled: boolean } }) => unknown, unknown]
      > = [
        [['--cpus', String(2 - (round % 2))], (c) => c.cpus, 2 - (round % 2)],
        [['--memory', String(300 + round)], (c) => c.memoryMiB, 300 + round],
        [['--notes', `round ${round}`], (c) => c.notes, `round ${round}`],
        [['--os', round % 2 ? 'windows' : 'bsd'], (c) => c.osType, round % 2 ? 'windows' : 'bsd'],
        [['--boot', round % 2 ? 'cdrom,disk' : 'disk,network'], (c) => c.bootOrder.join(','), round % 2 ? 'cdrom,disk' : 'disk,network'],
        [['--serial', round % 2 ? 'on' : 'off'], (c) => c.serial?.enabled, round % 2 === 1],
      ];
      const results = await Promise.all(changes.map(([args]) => vmdesk(sb, ['modify', 'many', ...args])));
      expect(
        results.map((r) => r.code),
        results.map((r) => r.stderr).join('\n'),
      ).toEqual(changes.map(() => 0));
      const { config } = (await show('many')) as unknown as { config: Parameters<(typeof changes)[number][1]>[0] };
      for (const [args, read, want] of changes) expect(read(config), args.join(' ')).toEqual(want);
    }
  });
});

describe('one disk, one writer', () => {
  it('two machines on one image: the second start is refused with a clear error, one QEMU runs', async () => {
    const image = path.join(sb.home, 'shared.qcow2');
    const made = await vmdesk(sb, ['create', 'maker', '--demo']);
    expect(made.code).toBe(0);
    const { dir } = await show('maker');
    fs.copyFileSync(path.join(dir, 'disks', 'disk0.qcow2'), image);
    await ok(sb, ['create', 'one', '--attach-disk', image, '--network', 'none']);
    await ok(sb, ['create', 'two', '--attach-disk', image, '--network', 'none']);
    await ok(sb, ['start', 'one']);
    const second = await vmdesk(sb, ['start', 'two']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/shared\.qcow2/);
    expect(second.stderr).toMatch(/lock|in use|used by/i);
    expect((await show('two')).status.state).not.toMatch(/running|starting/);
    expect(processesWith((await show('two')).uuid)).toEqual([]);
    expect(processesWith((await show('one')).uuid)).toHaveLength(1);
    await ok(sb, ['stop', 'one', '--force']);
  });
});

describe('two starts of one machine, from the CLI and from the UI (vmdesk serve)', () => {
  it('exactly one QEMU, the other side refused with INVALID_STATE or LOCKED, nothing half-made', async () => {
    await ok(sb, ['create', 'both', '--demo']);
    const { uuid } = await show('both');
    const served = await serve(sb);
    const api = await openApi(served);
    const outcomes: string[] = [];
    const trials = 12;
    try {
      for (let i = 0; i < trials; i++) {
        // The CLI spends a few hundred ms starting up before it takes the machine's lock (more on a
        // loaded machine): the UI's call lands before, during and well after that, so either side
        // wins, or finds the other in flight.
        const uiDelay = i * 80;
        const [cli, ui] = await Promise.all([
          vmdesk(sb, ['start', 'both']),
          new Promise<ApiReply>((resolve) => setTimeout(() => resolve(api.call('startMachine', 'both')), uiDelay)),
        ]);
        outcomes.push(`cli ${cli.code} ui ${ui.error?.code ?? 'ok'}`);
        expect([cli.code === 0, ui.error === undefined].filter(Boolean), `${cli.stderr} / ${JSON.stringify(ui.error)}`).toHaveLength(1);
        if (cli.code === 0) {
          expect(['INVALID_STATE', 'LOCKED'], ui.error?.message).toContain(ui.error?.code);
          expect(ui.error?.message).toMatch(/both/);
        } else {
          expect([5, 6], cli.stderr).toContain(cli.code);
          expect(cli.stderr).toMatch(/^vmdesk: .*both/);
          expect(cli.stderr).not.toMatch(/\n\s+at /);
        }
        const qemus = processesWith(uuid);
        expect(qemus).toHaveLength(1);
        expect(pidOf(uuid, 'qemu.pid')).toBe(qemus[0]);
        const shown = await show('both');
        expect(shown.status).toMatchObject({ state: 'running', qemuPid: qemus[0] });
        expect(shown.status.orphaned).toBeUndefined();
        // Nothing half-made: no temp files, no lock left behind.
        expect(fs.readdirSync(shown.dir).filter((f) => f.endsWith('.tmp') || f === 'machine.lock')).toEqual([]);
        await ok(sb, ['stop', 'both', '--force']);
        expect(processesWith(uuid)).toEqual([]);
      }
    } finally {
      api.close();
      served.child.kill('SIGKILL');
    }
    // Both sides won at some point: the trials raced for real.
    expect(new Set(outcomes.map((o) => o.startsWith('cli 0'))).size, outcomes.join(', ')).toBe(2);
  });
});
