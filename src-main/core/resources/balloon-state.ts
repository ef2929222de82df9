/**
 * balloon.json in a running machine's runtime dir: the balloon target last asked for and by whom
 * (the start, the user, or the host memory policy). The policy reads it to tell the user's choice
 * from its own, and the Performance and details views show it.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../fs/atomic-file.js';
import { RUNTIME } from '../paths.js';

export const balloonStateSchema = z.object({
  targetMiB: z.number().int().positive(),
  setBy: z.enum(['start', 'user', 'policy']),
  /** ISO time. */
  at: z.string(),
  /** The policy's reason, shown in the host view. */
  why: z.string().max(500).optional(),
});
export type BalloonState = z.infer<typeof balloonStateSchema>;

export function balloonStateFile(runtimeDir: string): string {
  return path.join(runtimeDir, RUNTIME.balloon);
}

/** The recorded target, or null (none recorded, or the file is unreadable). */
export async function readBalloonState(runtimeDir: string): Promise<BalloonState | null> {
  try {
    const parsed = balloonStateSchema.safeParse(JSON.parse(await fsp.readFile(balloonStateFile(runtimeDir), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function writeBalloonState(runtimeDir: string, state: Omit<BalloonState, 'at'> & { at?: string }): Promise<void> {
  await writeJsonAtomic(balloonStateFile(runtimeDir), balloonStateSchema.parse({ ...state, at: state.at ?? new Date().toISOString() }));
}
