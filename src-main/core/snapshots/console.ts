/**
 * The serial console kept with a RAM state (a live snapshot's or a suspended machine's): what the
 * machine's agent had in its scrollback when the state was saved, so a machine resumed from it shows
 * its screen as it was, not a blank console until a key is pressed. Stored beside the state as
 * `snapshots/<id>.console`, raw guest output bounded as the scrollback is; never interpreted, only
 * replayed: the new agent starts its scrollback with it (launch.json's `incoming.console`).
 *
 * The agent's scrollback is its seed (the console it resumed with, `scrollback.bin` in the runtime
 * dir) followed by serial.log from where its boot started, so it is read from those files: the
 * agent is not asked, and a guest paused for the save prints nothing meanwhile.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { launchFileSchema } from '../agent/protocol.js';
import { Scrollback, SCROLLBACK_BYTES } from '../console/scrollback.js';
import { RUNTIME } from '../paths.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { syncFile } from '../fs/atomic-file.js';
import { exists } from './common.js';

/** The console file kept beside a RAM state file (machine-relative or absolute): `<id>.vmstate` → `<id>.console`. */
export function consoleFileOf(stateFile: string): string {
  return `${stateFile.replace(/\.vmstate$/, '')}.console`;
}

/**
 * Keeps the running machine's console now beside the RAM state just saved (absolute path), while the
 * guest is still paused. Nothing for a machine without a serial port. A console that cannot be kept
 * (false) costs only the replay: the state is whole without it.
 */
export async function keepConsole(runtimeDir: string, stateFile: string): Promise<boolean> {
  const file = consoleFileOf(stateFile);
  try {
    const screen = await consoleNow(runtimeDir);
    if (screen) await fsp.writeFile(file, screen);
    return true;
  } catch {
    await fsp.rm(file, { force: true });
    return false;
  }
}

/** What the agent would replay to a new viewer: its seed, then serial.log since its boot, bounded; null without a serial port. */
async function consoleNow(runtimeDir: string): Promise<Buffer | null> {
  const launch = launchFileSchema.parse(JSON.parse(await fsp.readFile(path.join(runtimeDir, RUNTIME.launch), 'utf8')));
  if (!launch.serial) return null;
  const scrollback = new Scrollback();
  for (const part of [await tail(path.join(runtimeDir, RUNTIME.scrollback), 0), await tail(launch.serialLog, launch.serialLogStart)])
    if (part) scrollback.push(part);
  return scrollback.contents();
}

/** The last SCROLLBACK_BYTES of a file from `start` on; null when it is missing. */
async function tail(file: string, start: number): Promise<Buffer | null> {
  const handle = await fsp.open(file, 'r').catch(() => null);
  if (!handle) return null;
  try {
    const { size } = await handle.stat();
    const from = Math.max(start, size - SCROLLBACK_BYTES);
    const data = Buffer.alloc(Math.max(0, size - from));
    const { bytesRead } = await handle.read(data, 0, data.length, from);
    return data.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A RAM state (absolute path) and the console kept with it put on disk, before a record refers to them. */
export async function syncStateFiles(stateFile: string): Promise<void> {
  await syncFile(stateFile);
  if (await exists(consoleFileOf(stateFile))) await syncFile(consoleFileOf(stateFile));
}

/** Removes a RAM state (machine-relative) and the console kept with it. */
export async function removeStateFiles(dir: string, stateFile: string): Promise<void> {
  await fsp.rm(resolveMachinePath(dir, stateFile), { force: true });
  await fsp.rm(resolveMachinePath(dir, consoleFileOf(stateFile)), { force: true });
}
