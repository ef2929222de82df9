/** `--trust-backing FILE`, repeatable: the user's confirmation of each backing file of an image's chain. */
import path from 'node:path';
import { Option } from 'commander';

export function trustBackingOption(): Option {
  return new Option(
    '--trust-backing <file>',
    'confirm a backing file of the image, which is then used as part of the disk (repeat for every file of its chain)',
  ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), path.resolve(value)]);
}
