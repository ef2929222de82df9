// What the encryption tests look for on the host: a text in files (the images must never hold what
// the guest wrote, no file the passphrase) and in command lines (no process may carry the passphrase).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PROMPT = 'vmdesk-demo# ';

/** The marker `writeMarker(tag)` writes: `MARK<tag>-1234`. */
export const marker = (tag: string): string => `MARK${tag}-1234`;

/**
 * A guest command writing `marker(tag)` at sector 100 of its disk. The guest builds the marker with
 * $((…)): the command line echoed to the serial log never holds it.
 */
export const writeMarker = (tag: string): string =>
  `echo MARK${tag}-$((1000+234)) | dd of=/dev/vda bs=512 seek=100 conv=fsync 2>/dev/null && echo written-$((2*3))`;

/** A guest command printing sector 100 of its disk, read from the disk itself (caches dropped). */
export const READ_MARKER = 'sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | head -n 1';

export interface Keys {
  /** Made at random per run, so a match can only come from this run's own writes. */
  passphrase: string;
  /** A private folder holding the two files below. */
  dir: string;
  passFile: string;
  wrongFile: string;
}

/** A passphrase and its file, and a wrong one's; `fs.rmSync(keys.dir, …)` removes them. */
export function makeKeys(): Keys {
  const passphrase = `pass-${Math.random().toString(36).slice(2)}-phrase`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-keys-'));
  const passFile = path.join(dir, 'pass');
  const wrongFile = path.join(dir, 'wrong');
  fs.writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
  fs.writeFileSync(wrongFile, 'not-the-passphrase\n', { mode: 0o600 });
  return { passphrase, dir, passFile, wrongFile };
}

export function contains(file: string, text: string): boolean {
  return fs.readFileSync(file).includes(Buffer.from(text));
}

/** Every file under `dir` whose bytes hold `text`. */
export function filesHolding(dir: string, text: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isFile() && contains(file, text)) found.push(file);
  }
  return found;
}

/** The pids whose command line holds `text`. */
export function commandLinesHolding(text: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`).includes(Buffer.from(text));
      } catch {
        return false;
      }
    })
    .map(Number);
}
