/**
 * `vmdesk stats [NAME] [--watch] [--json]`: a running machine's live figures (CPU of QEMU's threads,
 * memory, disk and network rates), or the host's without NAME. The command's own core samples: once,
 * two samples a second apart (rates need two); with --watch, a line a second until Ctrl-C.
 */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { HostSample, MachineSample } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { formatNumber, t, type Key } from '../../i18n/i18n.js';
import { printable, state } from '../format.js';

interface Options {
  watch?: boolean;
  json?: boolean;
}

interface Column<S> {
  title: Key;
  value: (s: S) => number | null;
  digits: number;
}

const MiB = 1024 * 1024;
const perMiB = (n: number | null): number | null => (n === null ? null : n / MiB);
const perKiB = (n: number | null): number | null => (n === null ? null : n / 1024);

const MACHINE_COLUMNS: Array<Column<MachineSample>> = [
  { title: 'commands.stats.cpu', value: (s) => s.cpuPercent, digits: 1 },
  { title: 'commands.stats.rss', value: (s) => s.rssMiB, digits: 0 },
  { title: 'commands.stats.balloon', value: (s) => s.balloonActualMiB, digits: 0 },
  { title: 'commands.stats.guestFree', value: (s) => s.guestFreeMiB, digits: 0 },
  { title: 'commands.stats.diskRead', value: (s) => perMiB(s.diskReadBps), digits: 2 },
  { title: 'commands.stats.diskWrite', value: (s) => perMiB(s.diskWriteBps), digits: 2 },
  { title: 'commands.stats.readIops', value: (s) => s.diskReadIops, digits: 0 },
  { title: 'commands.stats.writeIops', value: (s) => s.diskWriteIops, digits: 0 },
  { title: 'commands.stats.netRx', value: (s) => perKiB(s.netRxBps), digits: 1 },
  { title: 'commands.stats.netTx', value: (s) => perKiB(s.netTxBps), digits: 1 },
];

const HOST_COLUMNS: Array<Column<HostSample>> = [
  { title: 'commands.stats.cpu', value: (s) => s.cpuPercent, digits: 1 },
  { title: 'commands.stats.memUsed', value: (s) => s.memUsedMiB, digits: 0 },
  { title: 'commands.stats.memTotal', value: (s) => s.memTotalMiB, digits: 0 },
  { title: 'commands.stats.ksmSaved', value: (s) => s.ksmSavedMiB, digits: 0 },
  { title: 'commands.stats.overcommit', value: (s) => s.overcommitRatio, digits: 2 },
];

function header<S>(columns: Array<Column<S>>): string {
  return columns.map((c) => t(c.title)).join('  ');
}

function row<S>(columns: Array<Column<S>>, sample: S): string {
  return columns
    .map((c) => {
      const v = c.value(sample);
      return (v === null ? '-' : formatNumber(v, c.digits)).padStart(t(c.title).length);
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
  if (samples.length === 0) throw new VmdeskError('INVALID_STATE', (await source.gone()) ?? notes[0] ?? t('commands.stats.noFigures'));
  if (!o.json) {
    for (const note of notes) process.stderr.write(`${t('cli.note', { message: printable(note) })}\n`);
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
    .argument('[name]', t('commands.stats.name'))
    .description(t('commands.stats.description'))
    .option('--watch', t('commands.stats.watch'))
    .option('--json', t('commands.stats.json'))
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
            core.runtime.isActive(status.state)
              ? null
              : t('commands.stats.notRunning', { name: machine.config.name, state: state(status.state) }),
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
