/** What every command prints besides its result: warnings, notes and a long task's progress. */
import type { Core } from '../core/core.js';
import { coreText, t } from '../i18n/i18n.js';

export function warn(warnings: readonly string[]): void {
  for (const message of warnings) process.stderr.write(`${t('cli.warning', { message: coreText(message) })}\n`);
}

/** Progress of a long task on stderr, on one rewritten line when stderr is a terminal. */
export function showTaskProgress(core: Core, taskId: string): void {
  if (!process.stderr.isTTY) return;
  core.on('task', (task) => {
    if (task.id !== taskId) return;
    const pct = task.progress === null ? '' : ` ${Math.round(task.progress * 100)}%`;
    process.stderr.write(`\r\x1b[K${coreText(task.title)}${pct} ${coreText(task.message)}`.slice(0, process.stderr.columns || 80));
    if (task.state !== 'running') process.stderr.write('\r\x1b[K');
  });
}
