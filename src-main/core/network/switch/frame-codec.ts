/**
 * QEMU's stream framing (`-netdev stream`, also `-netdev socket`): each Ethernet frame is sent as a
 * 4-byte big-endian length followed by that many bytes.
 */

export const LENGTH_BYTES = 4;
export const ETHERNET_HEADER = 14;
/** The largest frame accepted: a 64 KiB payload behind its Ethernet header. */
export const MAX_FRAME = 65536 + ETHERNET_HEADER;

export class MalformedFrameError extends Error {}

export function encodeFrame(frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_BYTES + frame.length);
  out.writeUInt32BE(frame.length, 0);
  out.set(frame, LENGTH_BYTES);
  return out;
}

/**
 * Cuts a byte stream into frames. Bytes arrive in chunks of any size: a frame (or its length) may be
 * split across chunks, and one chunk may hold many frames. A length of 0 or above MAX_FRAME means the
 * peer is not speaking this protocol (or is broken): push() throws and the decoder is done.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private broken = false;

  push(chunk: Buffer): Buffer[] {
    if (this.broken) throw new MalformedFrameError('stream already rejected');
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.pendingBytes < LENGTH_BYTES) break;
      const head = this.peek(LENGTH_BYTES);
      const length = head.readUInt32BE(0);
      if (length === 0 || length > MAX_FRAME) {
        this.broken = true;
        this.pending = [];
        this.pendingBytes = 0;
        throw new MalformedFrameError(length === 0 ? 'a frame of length 0' : `a frame of ${length} bytes (at most ${MAX_FRAME})`);
      }
      if (this.pendingBytes < LENGTH_BYTES + length) break;
      const whole = this.take(LENGTH_BYTES + length);
      frames.push(whole.subarray(LENGTH_BYTES));
    }
    return frames;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get buffered(): number {
    return this.pendingBytes;
  }

  private peek(n: number): Buffer {
    if (this.pending[0]!.length >= n) return this.pending[0]!;
    this.pending = [Buffer.concat(this.pending)];
    return this.pending[0]!;
  }

  private take(n: number): Buffer {
    let first = this.pending[0]!;
    if (first.length < n) {
      first = Buffer.concat(this.pending);
      this.pending = [first];
    }
    const out = first.subarray(0, n);
    if (first.length === n) this.pending.shift();
    else this.pending[0] = first.subarray(n);
    this.pendingBytes -= n;
    return out;
  }
}
