/**
 * The main window's bounds and maximized flag, remembered across runs in
 * `<userData>/window-state.json`. Whatever the file says is checked: a torn, edited or stale file
 * (a monitor unplugged since) never puts the window off screen.
 */
import fs from 'node:fs/promises';
import { writeJsonAtomic } from '../core/fs/atomic-file.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  bounds: Rect;
  maximized: boolean;
}

/** Where and how big the window opens: without x/y the window manager places it. */
export interface InitialWindowBounds {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized: boolean;
}

export const WINDOW_STATE_FILE = 'window-state.json';
export const DEFAULT_WINDOW_SIZE = { width: 1200, height: 800 } as const;
export const MIN_WINDOW_SIZE = { width: 640, height: 420 } as const;
const MAX_COORDINATE = 100_000;
/** How much of the title bar must lie on a display for the window to count as visible. */
const MIN_VISIBLE = 64;

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** The stored state, or null when it is missing pieces or holds absurd values. */
export function parseWindowState(raw: unknown): WindowState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { bounds, maximized } = raw as { bounds?: unknown; maximized?: unknown };
  if (typeof bounds !== 'object' || bounds === null || typeof maximized !== 'boolean') return null;
  const { x, y, width, height } = bounds as Partial<Record<keyof Rect, unknown>>;
  if (!isInt(x, -MAX_COORDINATE, MAX_COORDINATE) || !isInt(y, -MAX_COORDINATE, MAX_COORDINATE)) return null;
  if (!isInt(width, MIN_WINDOW_SIZE.width, MAX_COORDINATE) || !isInt(height, MIN_WINDOW_SIZE.height, MAX_COORDINATE)) return null;
  return { bounds: { x, y, width, height }, maximized };
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/**
 * Fit the remembered state to the displays there are now (their work areas): the saved position
 * when the window's top strip is on a display, shrunk to that display if it grew too big for it;
 * otherwise the saved size (or the default) wherever the window manager puts it.
 */
export function fitToDisplays(state: WindowState | null, workAreas: readonly Rect[]): InitialWindowBounds {
  if (!state) return { ...DEFAULT_WINDOW_SIZE, maximized: false };
  const { bounds, maximized } = state;
  const titleStrip: Rect = { x: bounds.x, y: bounds.y, width: bounds.width, height: Math.min(bounds.height, MIN_VISIBLE) };
  const home = workAreas.find((area) => {
    const o = overlap(titleStrip, area);
    return o.width >= MIN_VISIBLE && o.height > 0;
  });
  if (!home) {
    const largest = workAreas.reduce<Rect | null>((best, a) => (!best || a.width * a.height > best.width * best.height ? a : best), null);
    return {
      width: largest ? Math.min(bounds.width, largest.width) : bounds.width,
      height: largest ? Math.min(bounds.height, largest.height) : bounds.height,
      maximized,
    };
  }
  const width = Math.min(bounds.width, home.width);
  const height = Math.min(bounds.height, home.height);
  const x = Math.min(Math.max(bounds.x, home.x), home.x + home.width - width);
  const y = Math.min(Math.max(bounds.y, home.y), home.y + home.height - height);
  return { x, y, width, height, maximized };
}

export async function loadWindowState(file: string): Promise<WindowState | null> {
  try {
    return parseWindowState(JSON.parse(await fs.readFile(file, 'utf8')) as unknown);
  } catch {
    return null;
  }
}

export async function saveWindowState(file: string, state: WindowState): Promise<void> {
  await writeJsonAtomic(file, state);
}
