/**
 * `vmdesk stats [NAME] [--watch] [--json]`: a running machine's live figures (CPU of QEMU's threads,
 * memory, disk and network rates), or the host's without NAME. The command's own core samples: once,
 * two samples a second apart (rates need two); with --watch, a line a second until Ctrl-C.
 */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { HostSample, MachineSample } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { printable } from '../format.js';

interface Options {
  watch?: boolean;
  json?: boolean;
}

interface Column<S> {
  title: string;
  value: (s: S) => number | null;
  digits: number;
}

const MiB = 1024 * 1024;
const perMiB = (n: number | null): number | null => (n === null ? null : n / MiB);
const perKiB = (n: number | null): number | null => (n === null ? null : n / 1024);

const MACHINE_COLUMNS: Array<Column<MachineSample>> = [
  { title: 'CPU %', value: (s) => s.cpuPercent, digits: 1 },
  { title: 'RSS MiB', value: (s) => s.rssMiB, digits: 0 },
  { title: 'BALLOON MiB', value: (s) => s.balloonActualMiB, digits: 0 },
  { title: 'GUEST FREE MiB', value: (s) => s.guestFreeMiB, digits: 0 },
  { title: 'DISK R MiB/s', value: (s) => perMiB(s.diskReadBps), digits: 2 },
  { title: 'DISK W MiB/s', value: (s) => perMiB(s.diskWriteBps), digits: 2 },
  { title: 'R IOPS', value: (s) => s.diskReadIops, digits: 0 },
  { title: 'W IOPS', value: (s) => s.diskWriteIops, digits: 0 },
  { title: 'NET RX KiB/s', value: (s) => perKiB(s.netRxBps), digits: 1 },
  { title: 'NET TX KiB/s', value: (s) => perKiB(s.netTxBps), digits: 1 },
];

const HOST_COLUMNS: Array<Column<HostSample>> = [
  { title: 'CPU %', value: (s) => s.cpuPercent, digits: 1 },
  { title: 'MEM USED MiB', value: (s) => s.memUsedMiB, digits: 0 },
  { title: 'MEM TOTAL MiB', value: (s) => s.memTotalMiB, digits: 0 },
  { title: 'KSM SAVED MiB', value: (s) => s.ksmSavedMiB, digits: 0 },
  { title: 'OVERCOMMIT', value: (s) => s.overcommitRatio, digits: 2 },
];

function header<S>(columns: Array<Column<S>>): string {
  return columns.map((c) => c.title).join('  ');
}

function row<S>(columns: Array<Column<S>>, sample: S): string {
  return columns
    .map((c) => {
      const v = c.value(sample);
      return (v === null ? '-' : v.toFixed(c.digits)).padStart(c.title.length);
    })
    .join('  ');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where the figures come from: the machine's or the host's ring, oldest first. */
interface Source<S> {
  read(): Promise<{ samples: S[]; notes: string[] }>;
  /** Why no sample came, when the source is gone (the machine stopped); null while it runs. */
  gone(): Promise<string | null>;
}

async function run<S extends { t: number }>(source: Source<S>, columns: Array<Column<S>>, o: Options): Promise<void> {
  const first = await source.read();
  const notes = first.notes;
  let samples = first.samples;
  if (samples.length === 0) throw new VmdeskError('INVALID_STATE', (await source.gone()) ?? notes[0] ?? 'No figures yet');
  if (!o.json) {
    for (const note of notes) process.stderr.write(`note: ${printable(note)}\n`);
    process.stdout.write(`${header(columns)}\n`);
  }
  const print = (s: S): void => {
    process.stdout.write(o.json ? `${JSON.stringify(s)}\n` : `${row(columns, s)}\n`);
  };
  let lastT = samples.at(-1)?.t ?? 0;
  // The first sample has no rates: the one-shot waits for the next.
  for (;;) {
    await sleep(1_000);
    ({ samples } = await source.read());
    const fresh = samples.filter((s) => s.t > lastT);
    if (fresh.length === 0) {
      const why = await source.gone();
      if (why === null) continue;
      if (!o.watch) throw new VmdeskError('INVALID_STATE', why);
      process.stderr.write(`${printable(why)}\n`);
      return;
    }
    lastT = fresh.at(-1)?.t ?? lastT;
    if (!o.watch) {
      const last = fresh.at(-1);
      if (last) print(last);
      return;
    }
    for (const s of fresh) print(s);
  }
}

export function registerStatsCommand(program: Command, core: Core): void {
  program
    .command('stats')
    .argument('[name]', 'a running machine (without it: the host)')
    .description(
      "live figures: a machine's CPU (QEMU's threads), memory, disk and network rates, or the host's CPU, memory, KSM and overcommit",
    )
    .option('--watch', 'print a line every second until Ctrl-C')
    .option('--json', 'print the sample as JSON (with --watch, one JSON line per sample)')
    .action(async (name: string | undefined, o: Options) => {
      try {
        if (name === undefined) {
          await run(
            { read: () => core.sampler.host().then((h) => ({ samples: h.samples, notes: [] })), gone: () => Promise.resolve(null) },
            HOST_COLUMNS,
            o,
          );
          return;
        }
        const machine = await core.get(name);
        const gone = (): Promise<string | null> => {
          const status = core.runtime.status(machine.uuid);
          return Promise.resolve(
            core.runtime.isActive(status.state) ? null : `${machine.config.name} is not running (it is ${status.state})`,
          );
        };
        const why = await gone();
        if (why) throw new VmdeskError('INVALID_STATE', why);
        await run({ read: () => core.sampler.machine(machine.uuid), gone }, MACHINE_COLUMNS, o);
      } finally {
        // Its agent connections closed, so that the command ends.
        core.sampler.stop();
      }
    });
}
