// Fuzzing the API where it enters the main process: the /api WebSocket of a real `vmdesk serve`
// process (with its token), and the Electron IPC handler run without Electron. Random and
// oversized frames, 100,000 levels of nesting, prototype keys, a wrong type in every field of every
// operation, hostile host paths on a real machine: every answer is a typed error {code, message}
// (never INTERNAL) or a result, the server keeps serving, and its memory stays bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { API_ARGUMENTS, isApiMethod, type ApiMethod } from '../api/contract.js';
import { ERROR_CODES } from '../api/errors.js';
import type { TaskInfo } from '../api/types.js';
import { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { answerApiCall, desktopApi } from '../electron/api-bridge.js';
import { rendererIndexUrl } from '../electron/security.js';
import { fuzzParameters, fuzzRuns, fuzzTimeout } from '../fuzz/fuzz-config.js';
import { hostileFiles, hostileString, type HostileFiles } from '../fuzz/hostile.js';
import { anyTypeValue, fieldPaths, validValue, withValueAt } from '../fuzz/zod-arbitrary.js';
import { CLI, listMachineDirs, makeSandbox, type Sandbox } from './harness.js';

const METHODS = Object.keys(API_ARGUMENTS) as ApiMethod[];
/** Where a start would run QEMU, there is none: a fuzzed call never boots a guest. */
const NO_QEMU = '/nonexistent/qemu-system-x86_64';

interface Call {
  method: string;
  args: unknown;
}

/** A method's valid arguments with a value of any type put in one field (or in place of them all). */
const wrongTypeCall: fc.Arbitrary<Call> = fc
  .constantFrom(...METHODS)
  .chain((method) =>
    fc
      .tuple(validValue(API_ARGUMENTS[method]), fc.constantFrom(...fieldPaths(API_ARGUMENTS[method])), anyTypeValue())
      .map(([args, at, wrong]) => ({ method, args: withValueAt(args, at, wrong) })),
  );

/** Arguments with prototype keys, in the first object of any operation. */
const pollutingCall: fc.Arbitrary<Call> = fc
  .tuple(fc.constantFrom(...METHODS), fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.nat({ max: 2 }))
  .map(([method, key, at]) => {
    const payload = key === 'constructor' ? { prototype: { polluted: true } } : { polluted: true };
    return { method, args: withValueAt([], [at, key], payload) };
  });

/** 100,000 levels of nesting, as text (JSON.parse copes; a recursive walk would not). */
function deepJson(levels: number, method = 'getMachine'): string {
  return `{"id":7,"method":"${method}","args":[${'['.repeat(levels)}${']'.repeat(levels)}]}`;
}

/** The kind of answer every call must get: a result, or a typed error that is not INTERNAL. */
function expectTypedAnswer(answer: { result?: unknown; error?: { code: string; message: string } }, what: string): void {
  if ('error' in answer && answer.error) {
    expect(Object.keys(ERROR_CODES), what).toContain(answer.error.code);
    expect(answer.error.code, `${what}: ${answer.error.message}`).not.toBe('INTERNAL');
    expect(typeof answer.error.message, what).toBe('string');
  } else expect(answer, what).toHaveProperty('result');
}

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

/** Would the boundary refuse these arguments? Then the answer must be INVALID_INPUT. */
function refusedAtBoundary(method: string, args: unknown): boolean {
  return !isApiMethod(method) || !Array.isArray(args ?? []) || !API_ARGUMENTS[method].safeParse(args ?? []).success;
}

/** The RSS of a process, in MiB, from /proc. */
function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(line?.[1] ?? 0) / 1024);
}

describe('the /api WebSocket of a real `vmdesk serve`', () => {
  let sb: Sandbox;
  let files: HostileFiles;
  let server: ChildProcess;
  let apiUrl: string;
  let ws: WebSocket;
  let nextId = 1;
  const waiting: Array<(m: Record<string, unknown>) => void> = [];

  function open(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(apiUrl);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
      socket.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as Record<string, unknown>;
        if (!('event' in m)) waiting.shift()?.(m);
      });
    });
  }

  /** One frame, and the answer to it (frames are sent one at a time). */
  function send(frame: string | Buffer, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms to ${String(frame).slice(0, 200)}`)), timeoutMs);
      waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
      ws.send(frame, { binary: Buffer.isBuffer(frame) });
    });
  }

  async function call(method: string, args: unknown): Promise<{ result?: unknown; error?: { code: string; message: string } }> {
    const id = nextId++;
    const answer = await send(JSON.stringify({ id, method, args }));
    if (answer.id !== id && answer.id !== null) throw new Error(`answer ${JSON.stringify(answer)} is not to ${id}`);
    return answer;
  }

  async function stillServing(): Promise<void> {
    expect(await call('listMachines', [])).toHaveProperty('result');
  }

  /** A long operation's end: its task, once it is no longer running. */
  async function settled(task: TaskInfo): Promise<TaskInfo> {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const all = (await call('listTasks', [])).result as TaskInfo[];
      const t = all.find((x) => x.id === task.id);
      if (t && t.state !== 'running') return t;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`task ${task.title} did not end`);
  }

  beforeAll(async () => {
    sb = makeSandbox();
    files = hostileFiles(path.join(sb.home, '..', `${path.basename(sb.home)}-hostile`));
    server = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
      // No fuzzed call may reach the host's KSM settings (setKsm is in the contract).
      env: { ...sb.env, VMDESK_QEMU: NO_QEMU, VMDESK_KSM_SYSFS: '/nonexistent/ksm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out);
      });
      server.once('exit', (code) => reject(new Error(`vmdesk serve exited ${code}`)));
    });
    const url = new URL(/https?:\/\/\S+/.exec(line)?.[0] ?? '');
    // The token in the query: a client that holds it itself (no cookie, no Origin), as the CLI is.
    apiUrl = `ws://${url.host}/api?token=${url.searchParams.get('token') ?? ''}`;
    ws = await open();
  });

  afterAll(async () => {
    ws?.terminate();
    server?.kill('SIGTERM');
    await new Promise((r) => server?.once('exit', r));
    fs.rmSync(files.dir, { recursive: true, force: true });
    await sb?.cleanup();
  });

  it(
    'any frame: random text and bytes, JSON of any shape, oversized, deeply nested, polluting',
    async () => {
      const frame = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
        fc
          .record({
            id: fc.oneof(fc.nat(), anyTypeValue()),
            method: fc.oneof(fc.constantFrom(...METHODS), hostileString()),
            args: anyTypeValue(),
          })
          .map((r) => JSON.stringify(r) ?? 'null'),
        fc.constantFrom(
          deepJson(100_000),
          deepJson(100_000, 'createMachine'),
          `{"id":1,"method":"x","args":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`,
        ),
        fc.constantFrom(`{"id":2,"method":"getMachine","args":["${'x'.repeat(1024 * 1024)}"]}`, `"${'y'.repeat(1024 * 1024 + 10)}"`),
        pollutingCall.map((c) => JSON.stringify({ id: 3, ...c })),
      );
      await fc.assert(
        fc.asyncProperty(frame, async (f) => {
          const answer = await send(f);
          expectTypedAnswer(answer, String(f).slice(0, 200));
        }),
        fuzzParameters(400),
      );
      await stillServing();
      expectNoPollution();
    },
    fuzzTimeout(400, 100),
  );

  it(
    'a wrong type in any field of any operation: INVALID_INPUT, and valid leftovers a typed answer',
    async () => {
      await fc.assert(
        fc.asyncProperty(wrongTypeCall, async (c) => {
          const wire = JSON.parse(JSON.stringify(c)) as Call;
          const answer = await call(wire.method, wire.args);
          const what = `${c.method} ${JSON.stringify(c.args)?.slice(0, 300)}`;
          if (refusedAtBoundary(wire.method, wire.args)) expect(answer.error?.code, what).toBe('INVALID_INPUT');
          else expectTypedAnswer(answer, what);
        }),
        fuzzParameters(600),
      );
      await stillServing();
    },
    fuzzTimeout(600, 150),
  );

  it('a frame over the hard limit closes that socket only: a new one is served', async () => {
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.send('z'.repeat(9 * 1024 * 1024));
    // 1009 (message too big); 1006 when the server's close overtakes the rest of the frame.
    expect([1006, 1009]).toContain(await closed);
    waiting.length = 0;
    ws = await open();
    await stillServing();
  });

  it(
    'memory stays bounded over thousands of hostile messages',
    async () => {
      const pid = server.pid as number;
      const count = fuzzRuns(2000);
      const messages = fc.sample(
        fc.oneof(
          { weight: 6, arbitrary: wrongTypeCall.map((c) => JSON.stringify({ id: 1, ...c })) },
          { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
          { weight: 1, arbitrary: fc.constant(deepJson(100_000)) },
          { weight: 1, arbitrary: fc.constant(`{"id":1,"method":"sendText","args":["vm","${'t'.repeat(900_000)}"]}`) },
        ),
        { numRuns: count, seed: 7 },
      );
      const figures: Array<[number, number]> = [[0, rssMiB(pid)]];
      for (const [i, m] of messages.entries()) {
        expectTypedAnswer(await send(m), m.slice(0, 200));
        if ((i + 1) % 500 === 0) figures.push([i + 1, rssMiB(pid)]);
      }
      await stillServing();
      const after500 = figures[1]?.[1] ?? 0;
      const last = figures.at(-1)?.[1] ?? 0;
      process.stdout.write(`[api-fuzz] RSS of vmdesk serve (MiB) after N messages: ${figures.map(([n, r]) => `${n}: ${r}`).join(', ')}\n`);
      // Past the first 500 (heap and caches warmed up), the rest must not keep growing.
      expect(last - after500, figures.join(' | ')).toBeLessThan(64);
    },
    fuzzTimeout(2000, 60),
  );

  describe('hostile host paths on a real machine', () => {
    const target = 'fuzz target';

    beforeAll(async () => {
      const created = await call('createMachine', [{ name: target, memoryMiB: 64, network: 'none' }]);
      expect((await settled(created.result as TaskInfo)).state).toBe('done');
    });

    /**
     * A call that may start a task: the answer, or the task's own error, must be typed and not
     * INTERNAL. A call that succeeds (a plain file is a raw disk image) made a machine: removed.
     */
    async function expectTyped(method: string, args: unknown[]): Promise<void> {
      const answer = await call(method, args);
      const what = `${method} ${JSON.stringify(args)}`;
      expectTypedAnswer(answer, what);
      const task = answer.result as TaskInfo | undefined;
      if (task && typeof task === 'object' && 'state' in task) {
        const done = await settled(task);
        if (done.error) expectTypedAnswer({ error: done.error }, `${what} (task)`);
        const made = done.result as { uuid?: string } | string | undefined;
        const uuid = typeof made === 'string' ? made : made?.uuid;
        if (done.state === 'done' && uuid) expect(await call('deleteMachine', [uuid]), what).toHaveProperty('result');
      }
    }

    for (const op of [
      'inspectAppliance',
      'importAppliance',
      'changeMedium',
      'addDisk',
      'createMachine iso',
      'createMachine importDisk',
      'p2v',
    ])
      it(`${op}: every hostile path gives a typed error, and nothing is left behind`, async () => {
        const before = listMachineDirs(sb);
        for (const p of files.all) {
          const args: Record<string, unknown[]> = {
            inspectAppliance: [p],
            importAppliance: [p, { name: 'imported by fuzz' }],
            changeMedium: [target, p],
            addDisk: [target, { file: p }],
            'createMachine iso': [{ name: 'iso by fuzz', memoryMiB: 64, iso: p }],
            'createMachine importDisk': [{ name: 'disk by fuzz', memoryMiB: 64, importDisk: p }],
            p2v: [p, 'p2v by fuzz'],
          };
          await expectTyped(op.split(' ')[0] as string, args[op] as unknown[]);
        }
        const now = listMachineDirs(sb);
        expect(now.filter((d) => !before.includes(d))).toEqual([]);
        expect(fs.readdirSync(sb.home, { recursive: true }).filter((f) => /\.staging-|\.tmp$/.test(String(f)))).toEqual([]);
        await stillServing();
      }, 120_000);
  });

  describe('valid calls of every kind on a real machine', () => {
    /**
     * Operations on one machine that stay inside its folder (no clone, move, export or V2P). A
     * campaign runs a tenth of VMDESK_FUZZ_RUNS: snapshots pile up, and every call gets slower.
     */
    const ON_MACHINE: ApiMethod[] = [
      'getMachine',
      'modifyMachine',
      'setNic',
      'addPortForward',
      'removePortForward',
      'addDisk',
      'removeDisk',
      'resizeDisk',
      'changeMedium',
      'listSnapshots',
      'takeSnapshot',
      'restoreSnapshot',
      'deleteSnapshot',
      'readLog',
      'sendText',
      'screenshot',
      'shutdownMachine',
      'pauseMachine',
      'resumeMachine',
      'resetMachine',
      'sendCtrlAltDel',
      'saveState',
      'discardSavedState',
      'startMachine',
    ];
    let uuid: string;

    beforeAll(async () => {
      const created = await call('createMachine', [{ name: 'fuzz valid', memoryMiB: 64, diskBytes: 1024 * 1024 }]);
      const done = await settled(created.result as TaskInfo);
      uuid = String((done.result as { uuid?: string } | undefined)?.uuid ?? done.result);
    });

    it(
      'random valid arguments (the machine named by its uuid): a result or a typed error, tasks too',
      async () => {
        const onMachine = fc
          .constantFrom(...ON_MACHINE)
          .chain((method) => validValue(API_ARGUMENTS[method]).map((args) => ({ method, args: withValueAt(args, [0], uuid) })));
        const outcomes = new Map<string, number>();
        await fc.assert(
          fc.asyncProperty(onMachine, async ({ method, args }) => {
            const answer = await call(method, args);
            const what = `${method} ${JSON.stringify(args).slice(0, 300)}`;
            expectTypedAnswer(answer, what);
            let outcome = answer.error?.code ?? 'result';
            const task = answer.result as TaskInfo | undefined;
            if (task && typeof task === 'object' && 'state' in task && 'title' in task) {
              const done = await settled(task);
              if (done.error) expectTypedAnswer({ error: done.error }, `${what} (task)`);
              outcome = `task ${done.error?.code ?? done.state}`;
            }
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          }),
          fuzzParameters(150, 0.1),
        );
        process.stdout.write(`[api-fuzz] valid calls on a machine: ${[...outcomes].map(([k, n]) => `${k}: ${n}`).join(', ')}\n`);
        expect(await call('getMachine', [uuid])).toHaveProperty('result');
        const left = (fs.readdirSync(sb.home, { recursive: true }) as string[]).filter((f) => /\.staging-|\.tmp$/.test(f));
        expect(left).toEqual([]);
      },
      fuzzTimeout(150, 1_000, 0.1),
    );
  });
});

describe('the Electron IPC handler (answerApiCall, without Electron)', () => {
  let sb: Sandbox;
  let api: ReturnType<typeof desktopApi>;
  const indexUrl = rendererIndexUrl('/opt/VMDesk/resources/app.asar/dist/renderer/index.html');
  const frame = { url: `${indexUrl}#/`, isTopFrame: true };

  beforeAll(() => {
    sb = makeSandbox();
    const core = new Core({ home: sb.home, env: { ...sb.env, VMDESK_QEMU: NO_QEMU } });
    api = desktopApi(new CoreService(core), { url: 'ws://127.0.0.1:1', token: 't' });
  });
  afterAll(async () => sb.cleanup());

  /** What structured clone carries over IPC and JSON does not: BigInt, Map, Set, Date, sparse arrays. */
  const cloneOnly = fc.constantFrom<unknown>(
    10n,
    new Map([['name', 'x']]),
    new Set([1]),
    new Date(0),
    /re/g,
    new Uint8Array(4),
    new Array<unknown>(3),
  );

  it('a cycle, 100,000 levels of nesting or a BigInt, as the method or in any argument: a typed answer', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    for (const value of [cyclic, deep, 10n]) {
      for (const method of METHODS) {
        for (const args of [[value], [value, value], ['x', value], value]) {
          const reply = await answerApiCall(api, frame, indexUrl, method, args);
          expectTypedAnswer(reply, method);
          // Unknown keys are dropped where an object is not strict: then the call is valid.
          if (refusedAtBoundary(method, args)) expect(reply, method).toMatchObject({ error: { code: 'INVALID_INPUT' } });
        }
      }
      expect(await answerApiCall(api, frame, indexUrl, value, [])).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    }
  });

  it(
    'any method and arguments, of any type: a typed error value or a result, never a throw',
    async () => {
      const anything = fc.oneof(anyTypeValue(), cloneOnly);
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            wrongTypeCall.map((c) => [c.method, c.args] as const),
            pollutingCall.map((c) => [c.method, c.args] as const),
            fc.tuple(
              fc.oneof(fc.constantFrom(...METHODS), hostileString(), anything),
              fc.oneof(anything, fc.array(anything, { maxLength: 3 })),
            ),
          ),
          async ([method, args]) => {
            const reply = await answerApiCall(api, frame, indexUrl, method, args);
            const what = `${String(typeof method === 'bigint' ? `${method}n` : method).slice(0, 80)}`;
            expectTypedAnswer(reply, what);
            if (typeof method === 'string' && refusedAtBoundary(method, args))
              expect((reply as { error?: { code: string } }).error?.code, what).toBe('INVALID_INPUT');
          },
        ),
        fuzzParameters(800),
      );
      expect(await answerApiCall(api, frame, indexUrl, 'listMachines', [])).toEqual({ result: [] });
      expectNoPollution();
    },
    fuzzTimeout(800, 50),
  );
});
