#!/usr/bin/env node
// Draws VMDesk's icon — a screen on a rounded blue tile, a green "play" on the screen — as
// vmdesk.svg and as PNGs (anti-aliased by coverage sampling), so no image tool is needed.
// Run from anywhere: node resources/icons/draw-icon.mjs
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';

const here = import.meta.dirname;
const SIZES = [16, 24, 32, 48, 64, 128, 256, 512];

// Shapes in a 512-unit square, painted in order.
const tile = { x: 24, y: 24, w: 464, h: 464, r: 96, color: [37, 99, 235] };
const bezel = { x: 88, y: 120, w: 336, h: 232, r: 24, color: [241, 245, 249] };
const screen = { x: 108, y: 140, w: 296, h: 192, r: 10, color: [15, 23, 42] };
const stand = { x: 216, y: 352, w: 80, h: 40, r: 0, color: [241, 245, 249] };
const foot = { x: 168, y: 388, w: 176, h: 24, r: 12, color: [241, 245, 249] };
const play = {
  points: [
    [222, 188],
    [222, 284],
    [306, 236],
  ],
  color: [34, 197, 94],
};

function inRoundRect(s, x, y) {
  if (x < s.x || y < s.y || x > s.x + s.w || y > s.y + s.h) return false;
  const cx = Math.min(Math.max(x, s.x + s.r), s.x + s.w - s.r);
  const cy = Math.min(Math.max(y, s.y + s.r), s.y + s.h - s.r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= s.r ** 2;
}

function inTriangle([[ax, ay], [bx, by], [cx, cy]], x, y) {
  const d1 = (x - bx) * (ay - by) - (ax - bx) * (y - by);
  const d2 = (x - cx) * (by - cy) - (bx - cx) * (y - cy);
  const d3 = (x - ax) * (cy - ay) - (cx - ax) * (y - ay);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

const layers = [
  ...[tile, bezel, screen, stand, foot].map((s) => ({ color: s.color, hit: (x, y) => inRoundRect(s, x, y) })),
  { color: play.color, hit: (x, y) => inTriangle(play.points, x, y) },
];

function render(size) {
  const png = new PNG({ width: size, height: size });
  const n = 4; // n×n samples per pixel
  const scale = 512 / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) * scale;
          const y = (py + (sy + 0.5) / n) * scale;
          let color = null;
          for (const layer of layers) if (layer.hit(x, y)) color = layer.color;
          if (color) {
            r += color[0];
            g += color[1];
            b += color[2];
            a += 1;
          }
        }
      }
      const i = (py * size + px) * 4;
      png.data[i] = a ? Math.round(r / a) : 0;
      png.data[i + 1] = a ? Math.round(g / a) : 0;
      png.data[i + 2] = a ? Math.round(b / a) : 0;
      png.data[i + 3] = Math.round((a / (n * n)) * 255);
    }
  }
  return PNG.sync.write(png);
}

const rgb = (c) => `rgb(${c.join(',')})`;
const rect = (s) => `<rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" rx="${s.r}" fill="${rgb(s.color)}"/>`;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
  ${[tile, bezel, screen, stand, foot].map(rect).join('\n  ')}
  <polygon points="${play.points.map((p) => p.join(',')).join(' ')}" fill="${rgb(play.color)}"/>
</svg>
`;

fs.writeFileSync(path.join(here, 'vmdesk.svg'), svg);
fs.mkdirSync(path.join(here, 'png'), { recursive: true });
for (const size of SIZES) fs.writeFileSync(path.join(here, 'png', `${size}x${size}.png`), render(size));
fs.copyFileSync(path.join(here, 'png', '512x512.png'), path.join(here, 'vmdesk.png'));
