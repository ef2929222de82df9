/** `--trust-backing FILE`, repeatable: the user's confirmation of each backing file of an image's chain. */
import path from 'node:path';
import { Option } from 'commander';
import { t } from '../i18n/i18n.js';

export function trustBackingOption(): Option {
  return new Option('--trust-backing <file>', t('cli.trustBacking')).argParser((value: string, previous: string[] | undefined) => [
    ...(previous ?? []),
    path.resolve(value),
  ]);
}
