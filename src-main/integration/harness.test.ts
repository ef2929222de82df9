// The harness's own judgements, on PNG files made here: what counts as a screen with content.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { pngHasContent } from './harness.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-png-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A 720×400 black screen (VGA text mode's size) with white pixels where `lit` says. */
function screen(name: string, lit: (x: number, y: number) => boolean): string {
  const png = new PNG({ width: 720, height: 400 });
  for (let y = 0; y < 400; y++)
    for (let x = 0; x < 720; x++) {
      const i = (y * 720 + x) * 4;
      const v = lit(x, y) ? 255 : 0;
      png.data.writeUInt32BE(((v << 24) | (v << 16) | (v << 8) | 255) >>> 0, i);
    }
  const file = path.join(dir, `${name}.png`);
  fs.writeFileSync(file, PNG.sync.write(png));
  return file;
}

describe('pngHasContent', () => {
  it('a blank screen, one odd pixel or a lone block cursor is no content', () => {
    expect(pngHasContent(screen('blank', () => false))).toBe(false);
    expect(pngHasContent(screen('pixel', (x, y) => x === 300 && y === 200))).toBe(false);
    expect(pngHasContent(screen('cursor', (x, y) => x < 9 && y >= 144 && y < 160))).toBe(false);
  });

  it('a line of text is content', () => {
    // "vmdesk-demo# " and a few more: 16 glyph cells 9×16 with about a third of their pixels lit.
    expect(pngHasContent(screen('text', (x, y) => x < 16 * 9 && y < 16 && (x + y) % 3 === 0))).toBe(true);
  });
});
