/**
 * `vmdesk snapshot NAME take|list|restore|delete [SNAP]`, `vmdesk save-state NAME`,
 * `vmdesk discard-state NAME`: the snapshot tasks, waited for with their progress on stderr.
 */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { SnapshotNode, SnapshotTree } from '../../api/snapshots.js';
import type { Core } from '../../core/core.js';
import type { TaskInfo } from '../../core/tasks/task-manager.js';
import { coreText, t } from '../../i18n/i18n.js';
import { isEncrypted } from '../../core/storage/encryption.js';
import { warn } from '../output.js';
import { passphraseFileOption, readPassphrase } from './encrypt.js';

const ACTIONS = ['take', 'list', 'restore', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

/** Wait for a task, showing its progress on a terminal. */
async function follow<T>(core: Core, run: { task: TaskInfo; result: Promise<T> }): Promise<T> {
  const tty = process.stderr.isTTY;
  const onTask = (task: TaskInfo): void => {
    if (!tty || task.id !== run.task.id || task.state !== 'running') return;
    const pct = task.progress === null ? '' : ` ${Math.round(task.progress * 100)}%`;
    process.stderr.write(`\r\x1b[K${coreText(task.title)}: ${coreText(task.message)}${pct}`);
  };
  core.tasks.on('task', onTask);
  try {
    return await run.result;
  } finally {
    core.tasks.off('task', onTask);
    if (tty) process.stderr.write('\r\x1b[K');
  }
}

export function formatSnapshotTree(name: string, tree: SnapshotTree): string {
  if (tree.roots.length === 0) return `${t(tree.savedState ? 'commands.snapshot.noneSaved' : 'commands.snapshot.none', { name })}\n`;
  const lines: string[] = [];
  const currentLine = (prefix: string): string =>
    `${prefix}└── ▶ ${t(tree.savedState ? 'commands.snapshot.currentSaved' : 'commands.snapshot.current')}`;
  const walk = (nodes: SnapshotNode[], prefix: string): void => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      const date = node.createdAt.replace('T', ' ').slice(0, 19);
      lines.push(
        `${prefix}${last ? '└── ' : '├── '}${node.name}  [${t(`commands.snapshot.kinds.${node.kind}`)}]  ${date}${node.description ? `  ${node.description.split('\n')[0]}` : ''}`,
      );
      const inner = prefix + (last ? '    ' : '│   ');
      walk(node.children, inner);
      if (node.current) lines.push(currentLine(inner));
    });
  };
  lines.push(t('commands.snapshot.title', { name }));
  walk(tree.roots, '');
  if (tree.currentId === null) lines.push(currentLine(''));
  return lines.join('\n') + '\n';
}

/**
 * A machine with encrypted disks: its passphrase, asked as `start` asks. With `unlessRunning` (what
 * a running machine's QEMU does with the key it holds: new overlays), not asked of a running machine
 * but still read from a file given (merging a snapshot on a branch it does not run on needs it).
 */
export async function passphraseFor(
  core: Core,
  name: string,
  file: string | undefined,
  unlessRunning: boolean,
): Promise<{ passphrase?: string }> {
  const { config } = await core.library.find(name);
  const running = (): boolean => core.runtime.isRunning(config.uuid);
  if (!isEncrypted(config) || (file === undefined && unlessRunning && running())) return {};
  return { passphrase: await readPassphrase(file, config.name) };
}

interface SnapshotOptions {
  description?: string;
  json?: boolean;
  passphraseFile?: string;
}

export function registerSnapshotCommands(program: Command, core: Core): void {
  program
    .command('snapshot')
    .argument('<name>', t('commands.snapshot.machine'))
    .argument('<action>', ACTIONS.join('|'))
    .argument('[snap]', t('commands.snapshot.snap'))
    .description(t('commands.snapshot.description'))
    .option('--description <text>', t('commands.snapshot.descriptionOption'))
    .option('--json', t('commands.snapshot.json'))
    .addOption(passphraseFileOption())
    .action(async (name: string, action: string, snap: string | undefined, o: SnapshotOptions) => {
      if (!(ACTIONS as readonly string[]).includes(action))
        throw new VmdeskError(
          'INVALID_INPUT',
          t('cli.invalid.unknownAction', { command: 'snapshot', action, actions: ACTIONS.join(', ') }),
        );
      const verb = action as Action;
      if (verb === 'list') {
        const tree = await core.snapshots.list(name);
        process.stdout.write(o.json ? JSON.stringify(tree, null, 2) + '\n' : formatSnapshotTree(name, tree));
        return;
      }
      if (snap === undefined) throw new VmdeskError('INVALID_INPUT', t('commands.snapshot.needsName', { name, verb }));
      const key = await passphraseFor(core, name, o.passphraseFile, true);
      if (verb === 'take') {
        const r = await follow(
          core,
          core.snapshots.take(name, { name: snap, ...(o.description !== undefined ? { description: o.description } : {}), ...key }),
        );
        warn(r.warnings);
        const kind = t(`commands.snapshot.kinds.${r.kind}`);
        process.stdout.write(`${t('commands.snapshot.took', { kind, snapshot: r.name, name, id: r.id })}\n`);
      } else if (verb === 'restore') {
        const r = await follow(core, core.snapshots.restore(name, snap, key));
        warn(r.warnings);
        process.stdout.write(`${t('commands.snapshot.restored', { name, snapshot: r.snapshot.name })}\n`);
      } else {
        const r = await follow(core, core.snapshots.delete(name, snap, key));
        process.stdout.write(`${t('commands.snapshot.deleted', { snapshot: r.name, name })}\n`);
      }
    });

  program
    .command('save-state')
    .argument('<name>')
    .description(t('commands.snapshot.saveStateDescription'))
    .action(async (name: string) => {
      await follow(core, core.snapshots.saveState(name));
      process.stdout.write(`${t('commands.snapshot.savedState', { name })}\n`);
    });

  program
    .command('discard-state')
    .argument('<name>')
    .description(t('commands.snapshot.discardStateDescription'))
    .action(async (name: string) => {
      await core.snapshots.discardState(name);
      process.stdout.write(`${t('commands.snapshot.discardedState', { name })}\n`);
    });
}
