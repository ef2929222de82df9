// QMP round trip (raw socket vs through the VM agent), the core's memory and idle CPU with 5 running
// VMs, and `vmdesk list` with 200 registered machines.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, fmt, machineInfo, median, sandbox, whenLogShows } from './lib.mjs';

const { Core } = await import(path.join(import.meta.dirname, '..', 'dist/main/core/core.js'));
const { QmpClient } = await import(path.join(import.meta.dirname, '..', 'dist/main/core/qemu/qmp-client.js'));
const { AgentClient } = await import(path.join(import.meta.dirname, '..', 'dist/main/core/agent/agent-client.js'));

const out = [`core-overhead (${machineInfo()})`, '| measure | VMDesk | raw QEMU | goal |', '| --- | --- | --- | --- |'];

function rssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

// 1. QMP round trip: query-status 200 times.
{
  const sb = sandbox();
  try {
    Object.assign(process.env, { VMDESK_HOME: sb.home, VMDESK_RUNTIME_DIR: sb.runtime });
    const core = new Core({ env: sb.env });
    await (
      await core.create({ name: 'q', memoryMiB: 64, network: 'none' })
    ).result;
    await core.start('q');
    const { uuid } = await core.get('q');
    const agent = await AgentClient.connect(path.join(sb.runtime, uuid, 'agent.sock'));
    const viaAgent = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await agent.request({ op: 'qmp', command: 'query-status' });
      viaAgent.push(performance.now() - t);
    }
    agent.close();
    // The agent holds QEMU's one QMP connection; a second monitor is what a person would use by hand.
    await core.shutdown('q', { force: true });
    const dir = path.join(sb.runtime, 'raw');
    fs.mkdirSync(dir);
    const qemu = (await import('node:child_process')).spawn(
      'qemu-system-x86_64',
      [
        '-accel',
        'tcg',
        '-machine',
        'q35',
        '-m',
        '64',
        '-nodefaults',
        '-display',
        'none',
        '-qmp',
        `unix:${dir}/qmp.sock,server=on,wait=off`,
      ],
      { stdio: 'ignore' },
    );
    const qmp = await QmpClient.connect(`${dir}/qmp.sock`, { retryUntil: Date.now() + 10_000 });
    const raw = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await qmp.execute('query-status');
      raw.push(performance.now() - t);
    }
    qmp.close();
    qemu.kill('SIGKILL');
    out.push(`| QMP round trip (query-status, median of 200) | ${fmt(median(viaAgent))} via agent | ${fmt(median(raw))} direct | — |`);
  } finally {
    sb.cleanup();
  }
}

// 2. Core memory and idle CPU with 5 running demo VMs.
{
  const sb = sandbox();
  try {
    const core = new Core({ env: sb.env });
    for (let i = 0; i < 5; i++) await (await core.create({ name: `vm${i}`, demo: true, memoryMiB: 128 })).result;
    const stopWatching = await core.watch();
    for (let i = 0; i < 5; i++) await core.start(`vm${i}`);
    for (let i = 0; i < 5; i++) {
      const m = await core.get(`vm${i}`);
      await whenLogShows(path.join(m.dir, 'logs', 'serial.log'), 'vmdesk-demo# ', 0, 180_000);
    }
    global.gc?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    const pct = ((cpu.user + cpu.system) / 1000 / wall) * 100;
    const agents = [];
    for (const m of await core.list()) {
      const pid = Number(fs.readFileSync(path.join(sb.runtime, m.uuid, 'agent.pid'), 'utf8'));
      agents.push(rssMiB(pid));
    }
    out.push(`| core idle CPU, 5 VMs running, 10 s | ${pct.toFixed(3)} % of a core | — | < 1 % |`);
    out.push(`| core RSS, 5 VMs running | ${rssMiB(process.pid).toFixed(1)} MiB | — | — |`);
    out.push(`| per-VM agent RSS (mean of 5) | ${(agents.reduce((a, b) => a + b, 0) / agents.length).toFixed(1)} MiB | — | — |`);
    stopWatching();
    for (let i = 0; i < 5; i++) await core.shutdown(`vm${i}`, { force: true });
  } finally {
    sb.cleanup();
  }
}

// 3. `vmdesk list` with 200 registered machines.
{
  const sb = sandbox();
  try {
    const core = new Core({ env: sb.env });
    for (let i = 0; i < 200; i++)
      await (
        await core.create({ name: `m${String(i).padStart(3, '0')}`, memoryMiB: 64, network: 'none' })
      ).result;
    const times = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const r = spawnSync(process.execPath, [CLI, 'list'], { env: sb.env, encoding: 'utf8' });
      times.push(performance.now() - t);
      if (r.stdout.split('\n').length < 201) throw new Error('list did not show 200 machines');
    }
    const node = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      node.push(performance.now() - t);
    }
    out.push(`| \`vmdesk list\`, 200 machines (median of 10) | ${fmt(median(times))} | node -e 0: ${fmt(median(node))} | < 200 ms |`);
  } finally {
    sb.cleanup();
  }
}

console.log(out.join('\n'));
