/**
 * `vmdesk snapshot NAME take|list|restore|delete [SNAP]`, `vmdesk save-state NAME`,
 * `vmdesk discard-state NAME`: the snapshot tasks, waited for with their progress on stderr.
 */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { SnapshotNode, SnapshotTree } from '../../api/snapshots.js';
import type { Core } from '../../core/core.js';
import type { TaskInfo } from '../../core/tasks/task-manager.js';

const ACTIONS = ['take', 'list', 'restore', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

/** Wait for a task, showing its progress on a terminal. */
async function follow<T>(core: Core, run: { task: TaskInfo; result: Promise<T> }): Promise<T> {
  const tty = process.stderr.isTTY;
  const onTask = (t: TaskInfo): void => {
    if (!tty || t.id !== run.task.id || t.state !== 'running') return;
    const pct = t.progress === null ? '' : ` ${Math.round(t.progress * 100)}%`;
    process.stderr.write(`\r\x1b[K${t.title}: ${t.message}${pct}`);
  };
  core.tasks.on('task', onTask);
  try {
    return await run.result;
  } finally {
    core.tasks.off('task', onTask);
    if (tty) process.stderr.write('\r\x1b[K');
  }
}

function warn(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

export function formatSnapshotTree(name: string, tree: SnapshotTree): string {
  if (tree.roots.length === 0) return `${name} has no snapshots${tree.savedState ? ' (it has a saved state)' : ''}\n`;
  const lines: string[] = [];
  const currentLine = (prefix: string): string => `${prefix}└── ▶ current state${tree.savedState ? ' (saved)' : ''}`;
  const walk = (nodes: SnapshotNode[], prefix: string): void => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      const date = node.createdAt.replace('T', ' ').slice(0, 19);
      lines.push(
        `${prefix}${last ? '└── ' : '├── '}${node.name}  [${node.kind}]  ${date}${node.description ? `  ${node.description.split('\n')[0]}` : ''}`,
      );
      const inner = prefix + (last ? '    ' : '│   ');
      walk(node.children, inner);
      if (node.current) lines.push(currentLine(inner));
    });
  };
  lines.push(`Snapshots of ${name}:`);
  walk(tree.roots, '');
  if (tree.currentId === null) lines.push(currentLine(''));
  return lines.join('\n') + '\n';
}

export function registerSnapshotCommands(program: Command, core: Core): void {
  program
    .command('snapshot')
    .argument('<name>', 'machine')
    .argument('<action>', ACTIONS.join('|'))
    .argument('[snap]', 'snapshot name (or id)')
    .description('take, list, restore or delete snapshots (a running machine gets a live snapshot: memory and disks)')
    .option('--description <text>', 'description of a new snapshot')
    .option('--json', 'print JSON (list)')
    .action(async (name: string, action: string, snap: string | undefined, o: { description?: string; json?: boolean }) => {
      if (!(ACTIONS as readonly string[]).includes(action))
        throw new VmdeskError('INVALID_INPUT', `Unknown snapshot action "${action}" (use ${ACTIONS.join(', ')})`);
      const verb = action as Action;
      if (verb === 'list') {
        const tree = await core.snapshots.list(name);
        process.stdout.write(o.json ? JSON.stringify(tree, null, 2) + '\n' : formatSnapshotTree(name, tree));
        return;
      }
      if (snap === undefined) throw new VmdeskError('INVALID_INPUT', `vmdesk snapshot ${name} ${verb} needs a snapshot name`);
      if (verb === 'take') {
        const r = await follow(
          core,
          core.snapshots.take(name, { name: snap, ...(o.description !== undefined ? { description: o.description } : {}) }),
        );
        warn(r.warnings);
        process.stdout.write(`Took ${r.kind} snapshot "${r.name}" of ${name} (${r.id})\n`);
      } else if (verb === 'restore') {
        const r = await follow(core, core.snapshots.restore(name, snap));
        warn(r.warnings);
        process.stdout.write(`Restored ${name} to snapshot "${r.snapshot.name}"\n`);
      } else {
        const r = await follow(core, core.snapshots.delete(name, snap));
        process.stdout.write(`Deleted snapshot "${r.name}" of ${name}\n`);
      }
    });

  program
    .command('save-state')
    .argument('<name>')
    .description('save a running machine to disk and stop it; its next start resumes where it was')
    .action(async (name: string) => {
      await follow(core, core.snapshots.saveState(name));
      process.stdout.write(`Saved the state of ${name}; \`vmdesk start ${name}\` resumes it\n`);
    });

  program
    .command('discard-state')
    .argument('<name>')
    .description('forget the saved state of a machine: its next start boots afresh')
    .action(async (name: string) => {
      await core.snapshots.discardState(name);
      process.stdout.write(`Discarded the saved state of ${name}\n`);
    });
}
