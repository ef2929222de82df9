/** Fake switch clients for the tests: real unix socket connections speaking QEMU's stream framing. */
import net from 'node:net';
import { FrameDecoder, encodeFrame } from './frame-codec.js';

export function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

export const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** An Ethernet frame: destination, source, an experimental EtherType, then the payload. */
export function ethernet(dst: string, src: string, payload: string): Buffer {
  return Buffer.concat([mac(dst), mac(src), Buffer.from([0x88, 0xb5]), Buffer.from(payload)]);
}

export function payloadOf(frame: Buffer): string {
  return frame.subarray(14).toString();
}

export class FakeClient {
  readonly received: Buffer[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.received.push(...this.decoder.push(chunk)));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static connect(path: string): Promise<FakeClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new FakeClient(socket));
      });
    });
  }

  send(frame: Buffer): void {
    this.socket.write(encodeFrame(frame));
  }

  payloads(): string[] {
    return this.received.map(payloadOf);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Let frames in flight arrive (the switch and the clients share this process's event loop). */
export function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
