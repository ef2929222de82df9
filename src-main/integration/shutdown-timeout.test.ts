// A guest that ignores the ACPI power button (SeaBIOS with nothing to boot): stop times out with a
// clear choice, the machine stays running, and --force powers it off.
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

describe('shutdown of a guest that ignores ACPI', () => {
  it('times out, says how to power off, and --force does', async () => {
    await ok(sb, ['create', 'deaf', '--memory', '64', '--network', 'none']);
    await ok(sb, ['start', 'deaf']);
    const r = await vmdesk(sb, ['stop', 'deaf', '--timeout', '3']);
    expect(r.code).toBe(9);
    expect(r.stderr).toContain('did not shut down within 3 s');
    expect(r.stderr).toContain('vmdesk stop deaf --force');
    expect(JSON.parse(await ok(sb, ['show', 'deaf', '--json'])).status.state).toBe('running');
    expect(await ok(sb, ['stop', 'deaf', '--force'])).toContain('deaf is stopped');
  });

  it('the agent answers malformed requests with errors and keeps serving', async () => {
    await ok(sb, ['start', 'deaf']);
    const { uuid } = JSON.parse(await ok(sb, ['show', 'deaf', '--json'])) as { uuid: string };
    const socket = net.createConnection(path.join(sb.runtime, uuid, 'agent.sock'));
    const lines: Array<{ id?: number; error?: { code: string }; result?: { state: string } }> = [];
    socket.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as (typeof lines)[number]);
    });
    await new Promise((r) => socket.once('connect', r));
    socket.write('not json\n{"id":7,"op":"launch-missiles"}\n{"id":8,"op":"shutdown","timeoutMs":-1}\n{"id":9,"op":"status"}\n');
    // Four requests, four replies: wait for them rather than for a guessed time.
    await eventually(
      () => Promise.resolve(lines.filter((l) => 'id' in l).length),
      (n) => n >= 4,
      30_000,
    );
    socket.destroy();
    const replies = lines.filter((l) => 'id' in l);
    expect(replies[0]?.error?.code).toBe('INVALID_INPUT');
    expect(replies.find((l) => l.id === 7)?.error?.code).toBe('INVALID_INPUT');
    expect(replies.find((l) => l.id === 8)?.error?.code).toBe('INVALID_INPUT');
    expect(replies.find((l) => l.id === 9)?.result?.state).toBe('running');
    await ok(sb, ['stop', 'deaf', '--force']);
  });
});
