/**
 * `vmdesk encrypt NAME`, and a disk passphrase for the CLI (create --encrypt, start, encrypt): from `--passphrase-file FILE` (one trailing newline dropped, as
 * `echo secret > FILE` leaves one), else asked on the terminal without echo. It is never an
 * argument of its own: a command line is readable by every user of the host (/proc/PID/cmdline).
 */
import fs from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { Core } from '../../core/core.js';
import { encryptMachineTask } from '../../core/storage/encrypt-machine.js';
import { t } from '../../i18n/i18n.js';
import { showTaskProgress } from '../output.js';

export function passphraseFileOption(): Option {
  return new Option('--passphrase-file <file>', t('cli.passphrase.option'));
}

async function fromFile(file: string): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new VmdeskError(
      err.code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_INPUT',
      t('cli.invalid.passphraseFile', { file, reason: err.message }),
    );
  });
  return text.replace(/\r?\n$/, '');
}

/** One line typed on the terminal with nothing echoed; Ctrl-C cancels. */
function askHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  return new Promise((resolve, reject) => {
    let typed = '';
    stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err: Error | null): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004') return done(new VmdeskError('CANCELLED', t('cli.invalid.cancelled')));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * The passphrase the user gives: from the file, else typed (twice with `confirm`, for a new one).
 * Without a file and without a terminal to ask on, a clear error.
 */
export async function readPassphrase(file: string | undefined, what: string, confirm = false): Promise<string> {
  if (file !== undefined) return fromFile(file);
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.needsPassphrase', { what }));
  const first = await askHidden(t('cli.passphrase.prompt', { what }));
  if (confirm && (await askHidden(t('cli.passphrase.again'))) !== first)
    throw new VmdeskError('INVALID_INPUT', t('cli.invalid.passphrasesDiffer'));
  return first;
}

export function registerEncryptCommand(program: Command, core: Core): void {
  program
    .command('encrypt')
    .argument('<name>')
    .description(t('commands.encrypt.description'))
    .addOption(passphraseFileOption())
    .action(async (name: string, o: { passphraseFile?: string }) => {
      const passphrase = await readPassphrase(o.passphraseFile, t('cli.create.disksOf', { name }), true);
      const { task, result } = await encryptMachineTask(core, name, passphrase);
      showTaskProgress(core, task.id);
      const r = await result;
      process.stdout.write(`${t('commands.encrypt.encrypted', { name: r.name, disks: r.disks.join(', ') })}\n`);
    });
}
