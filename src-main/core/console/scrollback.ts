/** How much console output the agent keeps for a new viewer. */
export const SCROLLBACK_BYTES = 1024 * 1024;

/** A byte ring of the most recent console output, so a new viewer sees what came before it. */
export class Scrollback {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number = SCROLLBACK_BYTES) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  get length(): number {
    return this.size;
  }
}
