/**
 * `vmdesk backup-verify`: every image of a chain checked (qemu-img check, checksum, size, backing
 * links). An encrypted image is checked without the key: its checksum and size, and its header read
 * by VMDesk (LUKS, its only link the previous point's image); qemu-img cannot open it without the key,
 * so it checks an encrypted image only when the passphrase is given.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BackupVerifyOutcome } from '../../api/backup.js';
import { VmdeskError } from '../../api/errors.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { chainFiles, checkPointImage, qemuCheck } from './chain-images.js';
import { CHAIN_FILES_DIR, POINT_CONFIG_FILE, chainTo, readManifest, sha256File } from './manifest.js';

export async function verifyChain(chainDir: string, ctx: TaskContext, passphrase?: string): Promise<BackupVerifyOutcome> {
  const manifest = await readManifest(chainDir);
  if (!manifest) throw new VmdeskError('NOT_FOUND', `${chainDir} holds no backup chain (no manifest)`);
  const problems: string[] = [];
  let images = 0;
  for (const p of manifest.points) {
    if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
    ctx.progress((p.point - 1) / manifest.points.length, `Checking point ${p.point}`);
    const chain = chainTo(manifest, p.point);
    for (const d of p.disks) {
      const files = chainFiles(chainDir, chain, d.id);
      const found = await checkPointImage(files, d, true);
      // A plain image is checked with no key (null); an encrypted one only with its passphrase.
      const key = d.encrypted === true ? passphrase : null;
      if (found.length === 0 && key !== undefined) {
        const check = await qemuCheck(files.at(-1) as string, key);
        if (check) found.push(check);
      }
      problems.push(...found.map((f) => `point ${p.point}, disk ${d.id}: ${f}`));
      images++;
    }
    if (
      !(await fs.stat(path.join(chainDir, p.folder, POINT_CONFIG_FILE)).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      problems.push(`point ${p.point}: its machine configuration is missing`);
    for (const f of p.files) {
      const kept = path.join(chainDir, CHAIN_FILES_DIR, f.sha256);
      const sum = await sha256File(kept).catch(() => null);
      if (sum !== f.sha256) problems.push(`point ${p.point}: its copy of ${f.path} is ${sum === null ? 'missing' : 'damaged'}`);
    }
  }
  ctx.progress(1, problems.length === 0 ? 'The chain is intact' : `${problems.length} problems`);
  return { dir: chainDir, points: manifest.points.length, images, problems };
}
