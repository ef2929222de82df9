// QMP, an agent's event stream and a serial console, as the benchmarks that drive QEMU by hand need
// them (migration.mjs, resources.mjs): every message timed at arrival.
import net from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every socket connectUnix opened and that is still open, for a benchmark's take-down. */
export const openSockets = new Set();

/** Connects to a unix socket as soon as it accepts (retrying until timeoutMs). */
export async function connectUnix(file, timeoutMs = 30_000, track = openSockets) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const socket = await new Promise((resolve) => {
      const s = net.createConnection(file);
      s.once('connect', () => {
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', () => {
        s.destroy();
        resolve(null);
      });
    });
    if (socket) {
      track.add(socket);
      socket.on('close', () => track.delete(socket));
      socket.on('error', () => undefined);
      return socket;
    }
    if (Date.now() > deadline) throw new Error(`cannot connect to ${file}`);
    await sleep(10);
  }
}

/** Reads JSON lines from a socket; every message gets its arrival time. */
export function jsonLines(socket, onMessage) {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    const at = performance.now();
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) onMessage(JSON.parse(line), at);
    }
  });
}

/** Events of a QEMU, each `{ event, data, at }`, with a wait for one after an index. */
export class EventLog {
  events = [];
  waiters = new Set();
  closed = false;

  push(event, data, at) {
    this.events.push({ event, data: data ?? {}, at });
    for (const w of [...this.waiters]) w();
  }

  end() {
    this.closed = true;
    for (const w of [...this.waiters]) w();
  }

  /** The first event from index `from` on that `accept` takes. */
  wait(accept, timeoutMs = 120_000, from = 0, what = 'an event') {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        const found = this.events.slice(from).find(accept);
        if (!found && !this.closed) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        if (found) resolve(found);
        else reject(new Error(`the connection closed while waiting for ${what}`));
      };
      this.waiters.add(check);
      check();
    });
  }

  first(accept) {
    return this.events.find(accept);
  }
}

/** A QMP client: commands with ids, events logged with their arrival time. */
export class Qmp extends EventLog {
  static async connect(file, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Through an ssh forward the local socket accepts even while the far end cannot: wait for the greeting.
      const socket = await connectUnix(file, Math.max(0, deadline - Date.now()));
      const qmp = new Qmp(socket);
      const greeted = await Promise.race([qmp.greeting, sleep(3000).then(() => false)]);
      if (greeted) {
        await qmp.cmd('qmp_capabilities');
        return qmp;
      }
      socket.destroy();
      if (Date.now() > deadline) throw new Error(`no QMP greeting on ${file}`);
      await sleep(100);
    }
  }

  constructor(socket) {
    super();
    this.socket = socket;
    this.nextId = 1;
    this.pending = new Map();
    let greet;
    this.greeting = new Promise((r) => (greet = r));
    jsonLines(socket, (m, at) => {
      if (m.QMP) greet(true);
      else if (m.event) this.push(m.event, m.data, at);
      else if (this.pending.has(m.id)) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p.reject(new Error(`${p.execute}: ${m.error.class}: ${m.error.desc}`));
        else p.resolve(m.return);
      }
    });
    socket.on('close', () => {
      greet(false);
      for (const [, p] of this.pending) p.reject(new Error(`${p.execute}: QMP connection closed`));
      this.pending.clear();
      this.end();
    });
  }

  cmd(execute, args) {
    if (this.closed) return Promise.reject(new Error(`${execute}: QMP connection closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { execute, resolve, reject });
      this.socket.write(JSON.stringify(args ? { execute, arguments: args, id } : { execute, id }) + '\n');
    });
  }

  close() {
    this.socket.destroy();
  }
}

/** The QMP events a VMDesk agent passes on to its clients (agent.sock, JSON lines). */
export class AgentEvents extends EventLog {
  constructor(socket) {
    super();
    this.socket = socket;
    jsonLines(socket, (m, at) => {
      if (m.event === 'qmp') this.push(m.name, m.data, at);
    });
    socket.on('close', () => this.end());
  }

  close() {
    this.socket.destroy();
  }
}

/** A serial console (QEMU's serial socket, or an agent's console.sock): its text, and typing. */
export class Console {
  text = '';

  constructor(socket) {
    this.socket = socket;
    socket.on('data', (d) => (this.text += d.toString('latin1')));
  }

  count(needle) {
    return this.text.split(needle).length - 1;
  }

  /** Until `needle` has been shown `times` times. */
  async when(needle, times = 1, timeoutMs = 240_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.count(needle) < times) {
      if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(needle)} on the console:\n${this.text.slice(-800)}`);
      await sleep(50);
    }
  }

  type(line) {
    this.socket.write(`${line}\n`);
  }

  close() {
    this.socket.destroy();
  }
}
