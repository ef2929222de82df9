// The serial console after a restore (issue 12): a live snapshot keeps the console as it was (the
// agent's scrollback, as a file beside its RAM state), and the machine started from that state
// shows it to a new viewer on console.sock before anything is typed, then its live output. The
// same for a re-adopting agent, a snapshot of a restored machine and a suspend; the file goes with
// its snapshot. One demo guest (128 MiB), driven by the real CLI.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROMPT } from '../core/demo/demo-guest.js';
import { eventually, guestSays, makeSandbox, ok, type Sandbox } from './harness.js';

const VM = 'cr';
let sb: Sandbox;
let uuid = '';
let dir = '';

beforeAll(async () => {
  sb = makeSandbox();
  await ok(sb, ['create', VM, '--demo', '--memory', '128']);
  ({ uuid, dir } = JSON.parse(await ok(sb, ['show', VM, '--json'])) as { uuid: string; dir: string });
});
afterAll(async () => {
  await sb.cleanup();
});

/**
 * Print a line on the serial console with `vmdesk send` and wait for its output and the prompt
 * after it: `$((…))` makes the output differ from the echoed command line.
 */
async function print(word: string, n: number): Promise<string> {
  const line = `${word}-${n + 1}`;
  await guestSays(sb, VM, `echo ${word}-$((${n}+1))`, new RegExp(`\\n${line}\\r\\n[^]*${DEMO_PROMPT}`), 60);
  return line;
}

/** A new viewer on console.sock: what it is sent (scrollback first) until it goes quiet for `quietMs`, typing nothing. */
async function viewConsole(quietMs = 1500): Promise<{ text: string; socket: net.Socket; more: () => string }> {
  const socket = net.createConnection(path.join(sb.runtime, uuid, 'console.sock'));
  let text = '';
  let last = Date.now();
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    last = Date.now();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  await eventually(
    () => Promise.resolve(Date.now() - last),
    (idle) => text.length > 0 && idle >= quietMs,
    15_000,
  );
  return { text, socket, more: () => text };
}

/** The screen shows `line`'s output (not just the command line that printed it) with the prompt after it, and none of `absent`. */
function expectScreen(text: string, line: string, absent: string[]): void {
  const at = text.lastIndexOf(`\n${line}\r\n`);
  expect(at, JSON.stringify(text.slice(-300))).toBeGreaterThanOrEqual(0);
  expect(text.slice(at), JSON.stringify(text.slice(-300))).toContain(DEMO_PROMPT);
  for (const a of absent) expect(text).not.toContain(a);
}

interface Record {
  id: string;
  name: string;
  vmstate?: string;
}

function snapshotRecords(): Record[] {
  return (JSON.parse(fs.readFileSync(path.join(dir, 'snapshots.json'), 'utf8')) as { snapshots: Record[] }).snapshots;
}

function consoleFile(name: string): string {
  const vmstate = snapshotRecords().find((s) => s.name === name)?.vmstate;
  expect(vmstate).toMatch(/^snapshots\/[0-9a-f-]{36}\.vmstate$/);
  return path.join(dir, (vmstate ?? '').replace(/\.vmstate$/, '.console'));
}

function consoleFiles(): string[] {
  return fs.readdirSync(path.join(dir, 'snapshots')).filter((f) => f.endsWith('.console'));
}

async function restore(name: string): Promise<void> {
  const out = await ok(sb, ['snapshot', VM, 'restore', name], { timeoutMs: 180_000 });
  expect(out).toContain(`Restored ${VM} to snapshot "${name}"`);
  expect((JSON.parse(await ok(sb, ['show', VM, '--json'])) as { status: { state: string } }).status.state).toBe('running');
}

describe('the serial console after a snapshot restore', () => {
  let first = '';
  let second = '';
  let third = '';
  let fourth = '';

  it('a live snapshot keeps the console as it was, as raw bytes beside its RAM state', async () => {
    await ok(sb, ['start', VM]);
    await ok(sb, ['wait', VM, '--text', DEMO_PROMPT, '--timeout', '120']);
    first = await print('first', 41);
    expect(await ok(sb, ['snapshot', VM, 'take', 'one'], { timeoutMs: 180_000 })).toMatch(/Took live snapshot "one"/);
    const kept = fs.readFileSync(consoleFile('one'), 'latin1');
    expect(kept).toContain('VMDesk demo guest ready');
    expectScreen(kept, first, []);
    second = await print('second', 42);
  });

  it('restored, a new viewer sees the marker and the prompt before typing, not what came after; then live output', async () => {
    // Restored in place: the same agent relaunches QEMU, and lets its viewers go, as a machine that
    // stops does; they come back to the restored console.
    const agentPid = (): string => fs.readFileSync(path.join(sb.runtime, uuid, 'agent.pid'), 'utf8');
    const before = agentPid();
    const old = await viewConsole(300);
    const ended = new Promise<void>((resolve) => old.socket.once('close', () => resolve()));
    await restore('one');
    await ended;
    expect(agentPid()).toBe(before);
    const view = await viewConsole();
    try {
      expectScreen(view.text, first, [second]);
      // The console is live: what is typed now is answered after the replayed screen.
      view.socket.write('echo third-$((42+1))\r');
      await eventually(
        () => Promise.resolve(view.more()),
        (t) => t.includes('\nthird-43\r\n'),
        30_000,
      );
      third = 'third-43';
      expect(view.more().indexOf(first)).toBeLessThan(view.more().indexOf(third));
    } finally {
      view.socket.destroy();
    }
  });

  it('an agent killed -9 is re-adopted with the same screen', async () => {
    const agentPid = Number(fs.readFileSync(path.join(sb.runtime, uuid, 'agent.pid'), 'utf8').trim());
    process.kill(agentPid, 'SIGKILL');
    await eventually(
      () => Promise.resolve(fs.existsSync(`/proc/${agentPid}`)),
      (alive) => !alive,
      10_000,
    );
    // Any access re-adopts QEMU: print's `vmdesk send` does.
    fourth = await print('fourth', 43);
    const view = await viewConsole();
    view.socket.destroy();
    expectScreen(view.text, fourth, [second]);
    expect(view.text).toMatch(new RegExp(`\\n${first}\\r\\n[^]*\\n${third}\\r\\n[^]*\\n${fourth}\\r\\n`));
  });

  it('a snapshot of the restored machine keeps both the replayed console and what came since', async () => {
    await ok(sb, ['snapshot', VM, 'take', 'two'], { timeoutMs: 180_000 });
    const fifth = await print('fifth', 44);
    await restore('two');
    const view = await viewConsole();
    view.socket.destroy();
    expectScreen(view.text, fourth, [second, fifth]);
    expect(view.text).toContain(`\n${first}\r\n`);
  });

  it('a suspended machine resumes with its console too; the suspend’s console goes with its state', async () => {
    const sixth = await print('sixth', 45);
    await ok(sb, ['save-state', VM], { timeoutMs: 180_000 });
    expect(consoleFiles()).toHaveLength(3);
    await ok(sb, ['start', VM], { timeoutMs: 180_000 });
    const view = await viewConsole();
    view.socket.destroy();
    expectScreen(view.text, sixth, [second]);
    expect(view.text).toContain(`\n${first}\r\n`);
    // The saved state was used up, and its console with it.
    expect(consoleFiles()).toHaveLength(2);
  });

  it('deleting a snapshot removes its console file', async () => {
    await ok(sb, ['stop', VM, '--force']);
    const one = consoleFile('one');
    const two = consoleFile('two');
    expect(fs.existsSync(one) && fs.existsSync(two)).toBe(true);
    await ok(sb, ['snapshot', VM, 'delete', 'one'], { timeoutMs: 180_000 });
    expect(fs.existsSync(one)).toBe(false);
    expect(fs.existsSync(two)).toBe(true);
    await ok(sb, ['snapshot', VM, 'delete', 'two'], { timeoutMs: 180_000 });
    expect(consoleFiles()).toEqual([]);
  });
});
