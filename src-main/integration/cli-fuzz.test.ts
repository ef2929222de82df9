// Fuzzing the real `vmdesk` command (bin/vmdesk.js, a process per case) against a throw-away
// library holding one machine: every command with hostile names, paths (procfs, devices, FIFOs,
// folders), numbers, unicode, control characters, `--` tricks and very long values. Each run exits
// with a code of the README's table but 1 (internal error), prints no stack trace, says what went
// wrong on its first line, and leaves the library as it was unless it succeeded — and never a
// staging folder or a temp file. QEMU is pointed at nothing: no case boots a guest.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../api/errors.js';
import { fuzzParameters, fuzzTimeout } from '../fuzz/fuzz-config.js';
import { HOSTILE_NUMBERS, hostileFiles, hostileString, type HostileFiles } from '../fuzz/hostile.js';
import { CLI, makeSandbox, ok, type Sandbox } from './harness.js';

const TARGET = 'fz';
const EXIT_CODES = new Set<number>(Object.values(ERROR_CODES).filter((c) => c !== ERROR_CODES.INTERNAL));
const STACK_TRACE = /^\s+at .+[:(]\d+:\d+\)?$|\b(TypeError|RangeError|ReferenceError|SyntaxError)\b|node:internal/m;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  killed: boolean;
}

/** The commands' working folder: relative paths a command writes (v2p's target) land here, not in the checkout. */
const CWD = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-clifuzz-cwd-'));

/** One run of the CLI; a run still going after `limitMs` (a server that started) is stopped. */
function runCli(sb: Sandbox, argv: string[], limitMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...argv], { cwd: CWD, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

/** Every path below the library, with its kind: what a failed command must leave as it was. */
function snapshot(home: string): string[] {
  return (fs.readdirSync(home, { recursive: true }) as string[])
    .filter((f) => !/(^|\/)(library|machine)\.lock$/.test(f))
    .map((f) => `${f}${fs.lstatSync(path.join(home, f)).isDirectory() ? '/' : ''}`)
    .sort();
}

describe('the vmdesk command under hostile input', () => {
  let sb: Sandbox;
  // Made while the tests are collected: the command lines below name these files.
  const files: HostileFiles = hostileFiles(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-clifuzz-')), 'hostile'));

  beforeAll(async () => {
    sb = makeSandbox();
    sb.env.VMDESK_QEMU = '/nonexistent/qemu-system-x86_64';
    // `vmdesk ksm on` is among the commands: the host's KSM settings stay out of reach.
    sb.env.VMDESK_KSM_SYSFS = '/nonexistent/ksm';
    await ok(sb, ['create', TARGET, '--memory', '64', '--network', 'none', '--disk', '1M']);
  });
  afterAll(async () => {
    fs.rmSync(path.dirname(files.dir), { recursive: true, force: true });
    fs.rmSync(CWD, { recursive: true, force: true });
    await sb.cleanup();
  });

  /** A value for any slot: hostile, or one that means something to the command. */
  const anyValue = (): fc.Arbitrary<string> =>
    fc.oneof({ weight: 3, arbitrary: hostileString() }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) });
  const nameArg = (): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(TARGET) },
      { weight: 1, arbitrary: fc.constant('ghost') },
      { weight: 3, arbitrary: anyValue() },
    );
  const pathArg = (): fc.Arbitrary<string> => fc.oneof(fc.constantFrom(...files.all), anyValue());
  const choice = (...valid: string[]): fc.Arbitrary<string> => fc.oneof(fc.constantFrom(...valid), anyValue());

  type Options = Record<string, fc.Arbitrary<string> | 'flag'>;
  /** Every command: its positional arguments, and its options (with what values they take). */
  function commands(): Array<[string[], Array<fc.Arbitrary<string>>, Options]> {
    const number = anyValue;
    return [
      [['host'], [], { '--json': 'flag' }],
      [['list'], [], { '--json': 'flag' }],
      [['ls'], [], {}],
      [['show'], [nameArg()], { '--json': 'flag' }],
      [
        ['create'],
        [anyValue()],
        {
          '--cpus': number(),
          '--memory': number(),
          '--disk': number(),
          '--iso': pathArg(),
          '--import-disk': pathArg(),
          '--attach-disk': pathArg(),
          '--kernel': pathArg(),
          '--initrd': pathArg(),
          '--append': anyValue(),
          '--firmware': choice('bios', 'uefi'),
          '--os': choice('linux', 'windows'),
          '--network': choice('nat', 'none'),
          '--network-boot': 'flag',
          '--boot': choice('disk', 'cdrom,disk', 'network,network'),
          '--notes': anyValue(),
          '--json': 'flag',
        },
      ],
      [
        ['modify'],
        [nameArg()],
        {
          '--name': anyValue(),
          '--cpus': number(),
          '--memory': number(),
          '--firmware': choice('bios', 'uefi'),
          '--iso': pathArg(),
          '--eject': 'flag',
          '--kernel': pathArg(),
          '--initrd': pathArg(),
          '--append': anyValue(),
          '--no-kernel': 'flag',
          '--boot': choice('disk,cdrom'),
          '--display': choice('std', 'none'),
          '--serial': choice('on', 'off'),
          '--notes': anyValue(),
        },
      ],
      [['start'], [nameArg()], {}],
      [['stop'], [nameArg()], { '--force': 'flag', '--timeout': number() }],
      [['pause'], [nameArg()], {}],
      [['resume'], [nameArg()], {}],
      [['reset'], [nameArg()], {}],
      [['delete'], [nameArg()], { '--keep-disks': 'flag' }],
      [['console'], [nameArg()], {}],
      [['send'], [nameArg(), anyValue()], {}],
      [['log'], [nameArg()], {}],
      [['wait'], [nameArg()], { '--text': anyValue(), '--timeout': number(), '--from-now': 'flag' }],
      [['screenshot'], [nameArg(), pathArg()], {}],
      [
        ['snapshot'],
        [nameArg(), choice('take', 'list', 'restore', 'delete'), anyValue()],
        { '--description': anyValue(), '--json': 'flag' },
      ],
      [['save-state'], [nameArg()], {}],
      [['discard-state'], [nameArg()], {}],
      [['clone'], [nameArg(), anyValue()], { '--linked': 'flag', '--snapshot': anyValue(), '--json': 'flag' }],
      [['move'], [nameArg(), pathArg()], { '--json': 'flag' }],
      [
        ['disk'],
        [nameArg(), choice('add', 'remove', 'resize'), choice('disk0', 'disk1'), number()],
        {
          '--size': number(),
          '--format': choice('qcow2', 'raw'),
          '--file': pathArg(),
          '--bus': choice('virtio', 'sata'),
          '--delete-file': 'flag',
          '--force-shrink': 'flag',
        },
      ],
      [['cdrom'], [nameArg(), choice('insert', 'eject'), pathArg()], {}],
      [['media'], [], { '--json': 'flag' }],
      [['import'], [pathArg()], { '--name': anyValue(), '--inspect': 'flag', '--json': 'flag' }],
      [['export'], [nameArg(), pathArg()], {}],
      [['p2v'], [pathArg(), anyValue()], {}],
      [['v2p'], [nameArg(), pathArg()], { '--disk': choice('disk0'), '--yes-overwrite-device': 'flag' }],
      [
        ['nic'],
        [nameArg(), choice('1', '4', '5')],
        {
          '--attach': choice('nat', 'none', 'internal:lab', 'bridged:br0', 'internal:../x'),
          '--model': choice('virtio', 'e1000'),
          '--mac': choice('auto', '52:54:00:12:34:56', '01:00:00:00:00:00'),
          '--cable': choice('on', 'off'),
          '--remove': 'flag',
          '--json': 'flag',
        },
      ],
      [
        ['portforward'],
        [nameArg(), choice('add', 'remove', 'list'), anyValue()],
        {
          '--host-port': number(),
          '--guest-port': number(),
          '--protocol': choice('tcp', 'udp'),
          '--host-address': choice('127.0.0.1', '0.0.0.0', '999.1.1.1'),
          '--guest-address': choice('10.0.2.15'),
          '--adapter': choice('1', '2'),
          '--balloon': choice('on', 'off', 'maybe'),
          '--memory-min': choice('auto', '0', '64', '65536'),
          '--memory-shares': number(),
          '--page-sharing': choice('on', 'off'),
          '--cpu-cap': choice('off', '0', '25', '101', '-5'),
          '--cpu-shares': number(),
          '--pin': choice('0:0', '0:4095', '1:0', '0:1,0:0', 'off', 'x:y'),
          '--json': 'flag',
        },
      ],
      [['memory'], [nameArg()], { '--target': number(), '--json': 'flag' }],
      [['cpu'], [nameArg()], { '--json': 'flag' }],
      [['stats'], [nameArg()], { '--json': 'flag' }],
      [['ksm'], [choice('on', 'off', 'status')], { '--pages-to-scan': number(), '--sleep-ms': number(), '--json': 'flag' }],
      [['memory-policy'], [choice('on', 'off')], { '--target': number(), '--json': 'flag' }],
      [
        ['schedule'],
        [nameArg()],
        {
          '--every': choice('1h', '1d', '1w', '*/5 * * * *', '61 * * * *', '* * * * * *'),
          '--at': choice('03:00', 'sun 03:00', '25:00'),
          '--keep-last': number(),
          '--keep-hourly': number(),
          '--keep-daily': number(),
          '--keep-weekly': number(),
          '--off': 'flag',
          '--json': 'flag',
        },
      ],
      [['network'], [choice('host')], { '--json': 'flag' }],
      [['serve'], [], { '--host': choice('127.0.0.1', '::1', '256.0.0.1'), '--port': number() }],
      [
        ['hosts', 'add'],
        [anyValue(), choice('nowhere.invalid', '-oProxyCommand=touch /tmp/vmdesk-clifuzz-pwned', '0')],
        {
          '--port': number(),
          '--identity': pathArg(),
          '--remote-home': anyValue(),
          '--remote-command': anyValue(),
          '--accept-host-key': choice(`SHA256:${'A'.repeat(43)}`),
          '--json': 'flag',
        },
      ],
      [['hosts', 'list'], [], { '--json': 'flag' }],
      [['hosts', 'test'], [anyValue()], { '--json': 'flag' }],
      [['hosts', 'remove'], [anyValue()], {}],
      [['--host'], [anyValue(), choice('list', 'start', 'console')], {}],
    ];
  }

  /** A command line: some of the command's arguments and options, sometimes `--` and extra words. */
  const commandLine: fc.Arbitrary<string[]> = fc.constantFrom(...commands()).chain(([verb, positional, options]) =>
    fc
      .record({
        args: fc.tuple(...positional.map((a) => a)),
        keep: fc.nat({ max: positional.length }),
        options: fc
          .subarray(Object.entries(options), { maxLength: Math.min(4, Object.keys(options).length) })
          .chain((picked) =>
            fc.tuple(
              ...picked.map(([flag, value]) =>
                value === 'flag'
                  ? fc.constant([flag])
                  : fc.tuple(value, fc.boolean()).map(([v, joined]) => (joined ? [`${flag}=${v}`] : [flag, v])),
              ),
            ),
          ),
        dashes: fc.option(fc.nat({ max: 6 }), { freq: 5 }),
        extra: fc.option(anyValue(), { freq: 6 }),
      })
      .map(({ args, keep, options: opts, dashes, extra }) => {
        const argv = [...verb, ...args.slice(0, Math.max(keep, positional.length - 1)), ...opts.flat()];
        if (dashes !== null) argv.splice(Math.min(dashes, argv.length), 0, '--');
        if (extra !== null) argv.push(extra);
        // An argument of a process cannot hold a NUL byte: the kernel would end it there.
        return argv.map((a) => a.replaceAll('\0', ''));
      }),
  );

  it(
    'every command: an exit code of the table but 1, no stack trace, one clear first line, nothing left behind',
    async () => {
      const exits = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(commandLine, async (argv) => {
          if (!fs.existsSync(path.join(sb.home, 'machines', TARGET)))
            await ok(sb, ['create', TARGET, '--memory', '64', '--network', 'none', '--disk', '1M']);
          const before = snapshot(sb.home);
          const serves = argv.includes('serve');
          const run = await runCli(sb, argv, serves ? 4_000 : 60_000);
          const what = `vmdesk ${JSON.stringify(argv).slice(0, 400)}\n${run.stderr.slice(0, 1000)}`;
          const key = run.killed ? 'served' : String(run.code);
          exits.set(key, (exits.get(key) ?? 0) + 1);
          if (run.killed) {
            // Only a server that started may still be running: it said where it serves.
            expect(serves, what).toBe(true);
            expect(run.stdout, what).toContain('VMDesk is serving on http://');
            return;
          }
          expect(run.stderr, what).not.toMatch(STACK_TRACE);
          // Nothing a terminal would act on: escape sequences, carriage returns, bidi overrides.
          expect(run.stderr, what).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
          if (run.code === 0) {
            const left = snapshot(sb.home).filter((f) => /\.staging-|\.tmp$/.test(f));
            expect(left, what).toEqual([]);
            return;
          }
          expect(EXIT_CODES.has(run.code ?? -1), `exit ${run.code}: ${what}`).toBe(true);
          const first = run.stderr.split('\n')[0] ?? '';
          expect(first, what).toMatch(/^(vmdesk: |error: )\S/);
          expect([...first].length, what).toBeLessThan(600);
          expect(snapshot(sb.home), what).toEqual(before);
        }),
        fuzzParameters(150, 0.25),
      );
      expect(fs.existsSync('/tmp/vmdesk-clifuzz-pwned'), 'an option injected through a host reached ssh').toBe(false);
      process.stdout.write(`[cli-fuzz] runs by exit code: ${[...exits].map(([c, n]) => `${c}: ${n}`).join(', ')}\n`);
    },
    fuzzTimeout(150, 1_500, 0.25),
  );

  it('the known cases: procfs, a device, a FIFO and a folder as an import, an ISO or a disk', async () => {
    for (const p of ['/proc/self/mem', '/dev/urandom', files.fifo, files.folder]) {
      for (const argv of [
        ['import', p],
        ['import', p, '--inspect'],
        ['cdrom', TARGET, 'insert', p],
        ['modify', TARGET, '--iso', p],
        ['create', 'from special', '--iso', p],
        ['create', 'from special', '--import-disk', p],
        ['disk', TARGET, 'add', '--file', p],
      ]) {
        const before = snapshot(sb.home);
        const run = await runCli(sb, argv, 60_000);
        const what = `vmdesk ${argv.join(' ')}: ${run.stderr}`;
        expect(EXIT_CODES.has(run.code ?? -1) && run.code !== 0, what).toBe(true);
        expect(run.stderr, what).toMatch(/^vmdesk: \S/);
        expect(run.stderr, what).not.toMatch(STACK_TRACE);
        expect(snapshot(sb.home), what).toEqual(before);
      }
    }
  });

  it('a --timeout past what a timer can wait is refused, not turned into an instant time-out', async () => {
    for (const argv of [
      ['wait', TARGET, '--text', 'login:', '--timeout', '3000000'],
      ['stop', TARGET, '--timeout', '1e9'],
    ]) {
      const run = await runCli(sb, argv, 60_000);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/^vmdesk: --timeout must be at most \d+ seconds/);
    }
  });
});
