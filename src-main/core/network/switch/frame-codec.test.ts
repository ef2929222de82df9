import { describe, expect, it } from 'vitest';
import { FrameDecoder, MAX_FRAME, MalformedFrameError, encodeFrame } from './frame-codec.js';

describe('stream framing', () => {
  it('decodes frames split anywhere and several in one chunk', () => {
    const frames = [Buffer.alloc(60, 1), Buffer.alloc(1514, 2), Buffer.alloc(14, 3)];
    const wire = Buffer.concat(frames.map(encodeFrame));
    for (const step of [1, 3, 5, 64, 4096]) {
      const decoder = new FrameDecoder();
      const out: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) out.push(...decoder.push(wire.subarray(i, i + step)));
      expect(out).toEqual(frames);
      expect(decoder.buffered).toBe(0);
    }
  });

  it('keeps an incomplete frame until the rest comes', () => {
    const decoder = new FrameDecoder();
    const wire = encodeFrame(Buffer.alloc(100, 7));
    expect(decoder.push(wire.subarray(0, 50))).toEqual([]);
    expect(decoder.buffered).toBe(50);
    expect(decoder.push(wire.subarray(50))).toEqual([Buffer.alloc(100, 7)]);
  });

  it('rejects a zero length and a length past the largest frame', () => {
    expect(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0]))).toThrow(MalformedFrameError);
    const big = Buffer.alloc(4);
    big.writeUInt32BE(MAX_FRAME + 1);
    const decoder = new FrameDecoder();
    expect(() => decoder.push(big)).toThrow(/at most/);
    expect(() => decoder.push(encodeFrame(Buffer.alloc(60)))).toThrow(MalformedFrameError);
    expect(new FrameDecoder().push(encodeFrame(Buffer.alloc(MAX_FRAME)))).toHaveLength(1);
  });
});
