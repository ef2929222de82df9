/**
 * A snapshot puts a new empty overlay on each disk: from then on the guest writes there, and the
 * backup bitmaps stay behind in the image that froze. Taken as they are, the next backup would find
 * no bitmap on the disk's new top image and be full. So a snapshot carries them: the overlay gets each
 * backup bitmap of the image it goes on, merged in at the switch (the guest cannot write in between).
 * The copy then marks every change since the last backup: those before the snapshot (in the frozen
 * image, which the backup reads through the overlay) and those after it.
 *
 * Only taking a snapshot carries them. A restore makes an overlay on an older image: what the guest
 * sees goes back, no bitmap describes that, and its overlay starts without one (the next backup is
 * full and says why). Deleting a snapshot merges the deleted image into its child and never changes
 * the top image, whose bitmaps go on recording.
 */
import path from 'node:path';
import { qemuImgError, runQemuImg } from '../qemu/qemu-img-run.js';
import { readHeader } from '../snapshots/images.js';
import { imageNode } from '../qemu/qemu-args.js';
import { runKeyed } from '../storage/encryption.js';
import { BITMAP_PREFIX, type BitmapInfo } from './block-jobs.js';

/** An encrypted qcow2 image alone, opened with the key. */
const keyed = (file: string): string => `json:${JSON.stringify(imageNode('qcow2', path.resolve(file), undefined, true, []))}`;

/** The bitmaps worth carrying: VMDesk's backup bitmaps whose marks can be trusted. */
export function carriedBitmaps(bitmaps: readonly BitmapInfo[]): string[] {
  return bitmaps.filter((b) => b.name.startsWith(BITMAP_PREFIX) && b.persistent !== false && b.inconsistent !== true).map((b) => b.name);
}

/**
 * For a running machine: the QMP transaction actions that give `overlayNode` (put on `node` by an
 * earlier action of the same transaction) a persistent copy of each of `bitmaps` of `node`.
 */
export function carryBitmapActions(node: string, overlayNode: string, bitmaps: readonly string[]): unknown[] {
  return bitmaps.flatMap((name) => [
    { type: 'block-dirty-bitmap-add', data: { node: overlayNode, name, persistent: true } },
    { type: 'block-dirty-bitmap-merge', data: { node: overlayNode, target: name, bitmaps: [{ node, name }] } },
  ]);
}

/**
 * For a stopped machine: the same with qemu-img, from `image` into the new `overlay` on it. An
 * encrypted disk's images open only with the key: each is named as a `json:` name with the
 * passphrase's secret. Alone: `qemu-img bitmap` opens neither's backing file (and refuses options for one).
 */
export async function carryBitmapsOffline(image: string, overlay: string, passphrase?: string): Promise<void> {
  const { bitmaps } = await readHeader(image, 'qcow2');
  for (const name of carriedBitmaps(bitmaps)) {
    const what = `carry the backup bitmap ${name} into ${overlay}`;
    if (passphrase !== undefined) {
      await runKeyed(passphrase, ['bitmap', '--object', '', '--add', '--merge', name, '-b', keyed(image), keyed(overlay), name], what);
      continue;
    }
    const r = await runQemuImg([
      'bitmap',
      '--add',
      '--merge',
      name,
      '-b',
      path.resolve(image),
      '-F',
      'qcow2',
      '-f',
      'qcow2',
      path.resolve(overlay),
      name,
    ]);
    if (r.code !== 0) throw qemuImgError(what, r);
  }
}
