/**
 * The Migrate dialog's options, checked with the API's own schema; and, re-exported, the rest of
 * migration in the renderer (./migration-status.ts), which the first load uses without zod.
 */
// First: the schema imported below must not make zod probe for eval, which the CSP forbids.
import './zod-jitless';
import { migrateOptionsSchema, type MigrateOptions } from '../../src-main/api/migration';
import { t, type MessageKey } from '../i18n';
import { localizeApiMessage } from '../i18n/core-messages';
import type { MigrationMode } from './migration-status';

export * from './migration-status';

/** The dialog's fields; an empty number field is null (no limit, QEMU's default). */
export interface MigrateForm {
  to: string;
  mode: MigrationMode;
  bandwidthMiBs: number | null;
  maxDowntimeMs: number | null;
  autoConverge: boolean;
}

/** The options the form asks for, or what is wrong with them (the API's schema says). */
export function migrateOptions(form: MigrateForm): { options: MigrateOptions } | { error: string } {
  // The limits and auto-converge are the RAM pre-copy's: an offline migration has none.
  const value: MigrateOptions =
    form.mode === 'offline'
      ? { to: form.to, offline: true }
      : {
          to: form.to,
          ...(form.bandwidthMiBs !== null ? { bandwidthMiBs: form.bandwidthMiBs } : {}),
          ...(form.maxDowntimeMs !== null ? { maxDowntimeMs: form.maxDowntimeMs } : {}),
          ...(form.autoConverge ? { autoConverge: true } : {}),
        };
  if (!form.to) return { error: t('migration.chooseDestination') };
  const parsed = migrateOptionsSchema.safeParse(value);
  if (parsed.success) return { options: value };
  const issue = parsed.error.issues[0];
  const fields: Record<string, MessageKey> = {
    to: 'migration.destination',
    bandwidthMiBs: 'migration.bandwidth',
    maxDowntimeMs: 'migration.maxDowntime',
  };
  const field = t(fields[String(issue?.path[0])] ?? 'migration.options');
  return { error: t('migration.optionError', { field, problem: localizeApiMessage(issue?.message ?? t('errors.invalid')) }) };
}
