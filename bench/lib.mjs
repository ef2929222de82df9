// Shared helpers for the benchmarks: a throw-away library, the CLI, and timing of serial output.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const CLI = path.join(ROOT, 'bin', 'vmdesk.js');

export function sandbox() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-bench-'));
  const runtime = fs.mkdtempSync('/tmp/vmbr-');
  const env = { ...process.env, VMDESK_HOME: home, VMDESK_RUNTIME_DIR: runtime };
  return {
    home,
    runtime,
    env,
    cleanup() {
      for (const uuid of fs.existsSync(runtime) ? fs.readdirSync(runtime) : []) {
        for (const f of ['qemu.pid', 'agent.pid']) {
          try {
            process.kill(Number(fs.readFileSync(path.join(runtime, uuid, f), 'utf8')), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      fs.rmSync(runtime, { recursive: true, force: true });
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

export function cli(sb, args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: sb.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vmdesk ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Resolves with the time (performance.now()) at which `file` first contains `text` at or after `from`. */
export function whenLogShows(file, text, from = 0, timeoutMs = 120_000) {
  const needle = Buffer.from(text);
  return new Promise((resolve, reject) => {
    const dir = path.dirname(file);
    const check = () => {
      let data;
      try {
        data = fs.readFileSync(file);
      } catch {
        return;
      }
      const slice = data.subarray(from);
      if (needle.length === 0 ? slice.length > 0 : slice.includes(needle)) {
        const t = performance.now();
        watcher.close();
        clearTimeout(timer);
        resolve(t);
      }
    };
    const watcher = fs.watch(dir, check);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`timeout waiting for ${JSON.stringify(text)} in ${file}`));
    }, timeoutMs);
    check();
  });
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function fmt(ms) {
  return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

export function spawnDetached(cmd, args, env) {
  const child = spawn(cmd, args, { env, stdio: 'ignore' });
  return child;
}

export function machineInfo() {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.release()}`;
}

/**
 * Connects to a unix socket as soon as it exists (as `socat - UNIX-CONNECT:` in a retry loop would),
 * and keeps reading: QEMU's socket chardev writes its logfile only while a client is connected.
 */
export function attachWhenReady(file, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.createConnection(file);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        socket.resume();
        resolve(socket);
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`cannot connect to ${file}`));
        else setTimeout(attempt, 2);
      });
    };
    attempt();
  });
}

const CLK_TCK = 100;

/** CPU time (user + system, all threads) a process has used, in ms. */
export function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/**
 * Waits until a QEMU uses less than 10 % of a core over a second: the demo guest keeps its vCPU busy
 * for ~20 s after its prompt shows, which would weigh on whichever side is measured first.
 */
export async function settle(pid, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c0 = cpuMs(pid);
    await new Promise((r) => setTimeout(r, 1000));
    if (cpuMs(pid) - c0 < 100) return;
    if (Date.now() > deadline) throw new Error(`QEMU ${pid} stays busy`);
  }
}
