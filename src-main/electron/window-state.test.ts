import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_WINDOW_SIZE,
  WINDOW_STATE_FILE,
  fitToDisplays,
  loadWindowState,
  parseWindowState,
  saveWindowState,
  type Rect,
  type WindowState,
} from './window-state.js';

const laptop: Rect = { x: 0, y: 0, width: 1920, height: 1050 };
const rightMonitor: Rect = { x: 1920, y: 0, width: 2560, height: 1410 };
const state = (x: number, y: number, width = 1200, height = 800, maximized = false): WindowState => ({
  bounds: { x, y, width, height },
  maximized,
});

describe('parseWindowState', () => {
  it('accepts a well-formed state', () => {
    expect(parseWindowState(state(10, 20))).toEqual(state(10, 20));
    expect(parseWindowState(state(-1500, 0, 800, 600, true))).toEqual(state(-1500, 0, 800, 600, true));
  });

  it('rejects missing pieces, wrong types and absurd values', () => {
    for (const raw of [
      null,
      42,
      'x',
      [],
      {},
      { bounds: { x: 0, y: 0, width: 800, height: 600 } },
      { bounds: null, maximized: false },
      { bounds: { x: 0, y: 0, width: 800 }, maximized: false },
      { bounds: { x: '0', y: 0, width: 800, height: 600 }, maximized: false },
      { bounds: { x: 0.5, y: 0, width: 800, height: 600 }, maximized: false },
      { bounds: { x: NaN, y: 0, width: 800, height: 600 }, maximized: false },
      { bounds: { x: 0, y: 0, width: 10, height: 600 }, maximized: false },
      { bounds: { x: 0, y: 0, width: 800, height: 1e9 }, maximized: false },
      { bounds: { x: 1e12, y: 0, width: 800, height: 600 }, maximized: false },
      { bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: 'yes' },
    ]) {
      expect(parseWindowState(raw), JSON.stringify(raw)).toBeNull();
    }
  });
});

describe('fitToDisplays', () => {
  it('opens at the default size, placed by the window manager, without a saved state', () => {
    expect(fitToDisplays(null, [laptop])).toEqual({ ...DEFAULT_WINDOW_SIZE, maximized: false });
  });

  it('keeps a position that is on a display', () => {
    expect(fitToDisplays(state(100, 50), [laptop])).toEqual({ x: 100, y: 50, width: 1200, height: 800, maximized: false });
    expect(fitToDisplays(state(2000, 100, 1200, 800, true), [laptop, rightMonitor])).toEqual({
      x: 2000,
      y: 100,
      width: 1200,
      height: 800,
      maximized: true,
    });
  });

  it('pulls a window that hangs over the edge back onto its display', () => {
    expect(fitToDisplays(state(1500, 600), [laptop])).toEqual({ x: 720, y: 250, width: 1200, height: 800, maximized: false });
  });

  it('shrinks a window larger than its display', () => {
    expect(fitToDisplays(state(2000, 0, 2500, 1400), [laptop, { ...rightMonitor, width: 1280, height: 1000 }])).toEqual({
      x: 1920,
      y: 0,
      width: 1280,
      height: 1000,
      maximized: false,
    });
  });

  it('lets the window manager place a window whose display is gone, at a size that fits', () => {
    expect(fitToDisplays(state(2500, 200, 2400, 1300, true), [laptop])).toEqual({ width: 1920, height: 1050, maximized: true });
  });

  it('does not trust a sliver of title bar on screen, nor a window above the display', () => {
    expect(fitToDisplays(state(1900, 10), [laptop])).toEqual({ width: 1200, height: 800, maximized: false });
    expect(fitToDisplays(state(-1180, 10), [laptop])).toEqual({ width: 1200, height: 800, maximized: false });
    expect(fitToDisplays(state(100, -900), [laptop])).toEqual({ width: 1200, height: 800, maximized: false });
  });

  it('copes with no displays reported at all', () => {
    expect(fitToDisplays(state(100, 100), [])).toEqual({ width: 1200, height: 800, maximized: false });
  });
});

describe('the window state file', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-ws-'));
    dirs.push(dir);
    return path.join(dir, WINDOW_STATE_FILE);
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips', async () => {
    const file = tmp();
    await saveWindowState(file, state(10, 20, 900, 700, true));
    expect(await loadWindowState(file)).toEqual(state(10, 20, 900, 700, true));
  });

  it('reads a missing, torn, empty or edited file as no state', async () => {
    const file = tmp();
    expect(await loadWindowState(file)).toBeNull();
    for (const text of [
      '',
      '{"bounds": {"x": 1, "y"',
      'null',
      '{"bounds": {"x": 0, "y": 0, "width": -5, "height": 600}, "maximized": false}',
      '\u0000\u0001',
    ]) {
      fs.writeFileSync(file, text);
      expect(await loadWindowState(file), text).toBeNull();
    }
    fs.rmSync(file);
    fs.mkdirSync(file);
    expect(await loadWindowState(file)).toBeNull();
  });
});
