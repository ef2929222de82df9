// Fuzzing the QMP client through a real unix socket: a fake monitor greets, then answers each
// command with random, malformed and hostile lines (split at random points) before — or instead
// of — the real reply. The client must settle every command with its reply or a typed error
// (QEMU_FAILED, TIMEOUT), emit only well-formed events, and never throw from its socket handler.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { it } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { toErrorShape, VmdeskError } from '../../api/errors.js';
import { fuzzParameters, fuzzTimeout } from '../../fuzz/fuzz-config.js';
import { QmpClient, type QmpEvent } from './qmp-client.js';

const GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian' }, capabilities: ['oob'] } };
/** An object JavaScript cannot turn into a string or a number: String(x) and Number(x) throw. */
const UNPRINTABLE = { toString: 1, valueOf: 1 };

/** What a confused or hostile monitor sends: a line of JSON or not, in one piece or in several. */
const junkLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.constantFrom(
    '{}',
    '[]',
    'null',
    '{"QMP":null}',
    `{"QMP":${JSON.stringify({ version: { qemu: { major: UNPRINTABLE, minor: 1, micro: 1 } }, capabilities: [UNPRINTABLE] })}}`,
    '{"QMP":{"version":"7","capabilities":"oob"}}',
    '{"event":"STOP"}',
    '{"event":"STOP","timestamp":null}',
    `{"event":"RESUME","timestamp":${JSON.stringify({ seconds: UNPRINTABLE, microseconds: UNPRINTABLE })}}`,
    '{"event":{"nested":1},"timestamp":{"seconds":1}}',
    '{"event":"__proto__","data":{"__proto__":{"polluted":1}}}',
    '{"__proto__":{"polluted":1},"id":1,"return":{}}',
    '{"id":"1","return":{}}',
    '{"id":-1,"return":{}}',
    '{"id":1e999,"return":{}}',
    '{"return":{}}',
    '{"error":{"class":"GenericError","desc":"boom"}}',
    `{"id":99999,"error":${JSON.stringify(UNPRINTABLE)}}`,
    `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    `{"event":"X","data":"${'y'.repeat(200_000)}"}`,
  ),
);

/** The reply to the command with `id`: a success, a QMP error in any shape, or none at all. */
function replyArbitrary(id: number): fc.Arbitrary<string | null> {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 2 }).map((r) => JSON.stringify({ id, return: r })),
    fc.constantFrom(
      JSON.stringify({ id, error: { class: 'GenericError', desc: 'no such device' } }),
      JSON.stringify({ id, error: null }),
      JSON.stringify({ id, error: 'a string' }),
      JSON.stringify({ id, error: { class: UNPRINTABLE, desc: UNPRINTABLE } }),
      JSON.stringify({ id }),
      null,
    ),
  );
}

interface Script {
  greeting: string[];
  before: string[];
  reply: string | null;
  /** Where to cut the bytes into chunks (fractions of the whole). */
  cuts: number[];
  closeAfter: boolean;
}

const scriptArbitrary: fc.Arbitrary<Script> = fc.record({
  // Junk before the real greeting, or none.
  greeting: fc.array(junkLine, { maxLength: 3 }).map((j) => [...j, JSON.stringify(GREETING)]),
  before: fc.array(junkLine, { maxLength: 6 }),
  // The command is id 2: qmp_capabilities is id 1.
  reply: replyArbitrary(2),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  closeAfter: fc.boolean(),
});

/** The lines as a byte stream cut at the script's points, so messages arrive split or coalesced. */
function chunks(lines: string[], cuts: number[]): Buffer[] {
  const all = Buffer.from(lines.map((l) => `${l}\r\n`).join(''));
  const points = [...new Set(cuts.map((c) => Math.floor(c * all.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, all.length]) {
    if (p > from) out.push(all.subarray(from, p));
    from = p;
  }
  return out;
}

let dir: string;
let server: net.Server;
let script: Script;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-qmpfuzz-'));
  server = net.createServer((socket) => {
    const s = script;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    for (const c of chunks(s.greeting, s.cuts)) socket.write(c);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl)) as { execute: string; id: number };
        buf = buf.slice(nl + 1);
        if (cmd.execute === 'qmp_capabilities') socket.write(`${JSON.stringify({ return: {}, id: cmd.id })}\r\n`);
        else {
          for (const c of chunks([...s.before, ...(s.reply === null ? [] : [s.reply])], s.cuts)) socket.write(c);
          if (s.closeAfter) socket.end();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path.join(dir, 'qmp.sock'), resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

function expectTyped(err: unknown, codes: string[]): void {
  expect(err).toBeInstanceOf(VmdeskError);
  const shape = toErrorShape(err);
  expect(codes, shape.message).toContain(shape.code);
}

describe('QmpClient against a hostile monitor', () => {
  it.prop([scriptArbitrary], fuzzParameters(200))(
    'settles every command with its reply or a typed error, and emits only well-formed events',
    async (s) => {
      script = s;
      const client = await QmpClient.connect(path.join(dir, 'qmp.sock'), { timeoutMs: 500 });
      const events: QmpEvent[] = [];
      client.on('event', (e) => events.push(e));
      try {
        expect(typeof client.greeting.version).toBe('string');
        expect(client.greeting.capabilities.every((c) => typeof c === 'string')).toBe(true);
        const outcome = await client.execute('query-status', undefined, { timeoutMs: 150 }).then(
          (value) => ({ value }),
          (err: unknown) => ({ err }),
        );
        const reply = s.reply === null ? null : (JSON.parse(s.reply) as Record<string, unknown>);
        if ('value' in outcome) {
          expect(reply).not.toBeNull();
          expect(reply && 'error' in reply).toBe(false);
          expect(outcome.value).toEqual(reply?.return);
        } else expectTyped(outcome.err, reply === null ? ['TIMEOUT', 'QEMU_FAILED'] : ['QEMU_FAILED']);
        for (const e of events) {
          expect(typeof e.event).toBe('string');
          expect(typeof e.timestamp.seconds).toBe('number');
          expect(typeof e.timestamp.microseconds).toBe('number');
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      } finally {
        client.close();
      }
    },
    fuzzTimeout(200, 200),
  );

  it('a greeting JavaScript cannot print does not take the client down', async () => {
    script = {
      greeting: [
        `{"QMP":${JSON.stringify({ version: { qemu: { major: UNPRINTABLE, minor: 0, micro: 0 } }, capabilities: [UNPRINTABLE] })}}`,
      ],
      before: [`{"event":"STOP","timestamp":${JSON.stringify({ seconds: UNPRINTABLE })}}`],
      reply: JSON.stringify({ id: 2, return: { running: false } }),
      cuts: [],
      closeAfter: false,
    };
    const client = await QmpClient.connect(path.join(dir, 'qmp.sock'), { timeoutMs: 500 });
    const events: QmpEvent[] = [];
    client.on('event', (e) => events.push(e));
    try {
      expect(client.greeting.capabilities).toEqual([]);
      expect(await client.execute('query-status')).toEqual({ running: false });
      expect(events.map((e) => [e.event, e.timestamp])).toEqual([['STOP', { seconds: 0, microseconds: 0 }]]);
    } finally {
      client.close();
    }
  });
});
