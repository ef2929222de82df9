// start → first serial byte and start → shell prompt: `vmdesk start` vs the very same QEMU argv by hand
// (without -S, since a person running QEMU by hand lets it run at once). Runs alternate; medians shown.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, attachWhenReady, cli, fmt, machineInfo, median, sandbox, whenLogShows } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PROMPT = 'vmdesk-demo# ';
const sb = sandbox();
try {
  cli(sb, ['create', 'bench', '--demo']);
  const { uuid, dir } = JSON.parse(cli(sb, ['show', 'bench', '--json']));
  const serialLog = path.join(dir, 'logs', 'serial.log');
  const rows = { vmdesk: { first: [], prompt: [] }, app: { first: [], prompt: [] }, qemu: { first: [], prompt: [] } };
  // The desktop app and `vmdesk serve` keep a core loaded: start is one call, without a CLI process.
  const { Core } = await import(path.join(ROOT, 'dist/main/core/core.js'));
  const core = new Core({ env: sb.env });
  let argv = null;

  for (let i = 0; i < RUNS; i++) {
    // VMDesk: the CLI command a user types, measured from its spawn.
    let from = fs.existsSync(serialLog) ? fs.statSync(serialLog).size : 0;
    let t0 = performance.now();
    const first = whenLogShows(serialLog, '', from);
    const prompt = whenLogShows(serialLog, PROMPT, from);
    const start = spawn(process.execPath, [CLI, 'start', 'bench'], { env: sb.env, stdio: 'ignore' });
    rows.vmdesk.first.push((await first) - t0);
    rows.vmdesk.prompt.push((await prompt) - t0);
    await new Promise((r) => (start.exitCode !== null ? r() : start.on('exit', r)));
    const launch = JSON.parse(fs.readFileSync(path.join(sb.runtime, uuid, 'launch.json'), 'utf8'));
    argv = launch;
    cli(sb, ['stop', 'bench', '--force']);

    // VMDesk with a core already loaded (the app's Start button).
    from = fs.existsSync(serialLog) ? fs.statSync(serialLog).size : 0;
    t0 = performance.now();
    const appFirst = whenLogShows(serialLog, '', from);
    const appPrompt = whenLogShows(serialLog, PROMPT, from);
    await core.start('bench');
    rows.app.first.push((await appFirst) - t0);
    rows.app.prompt.push((await appPrompt) - t0);
    await core.shutdown('bench', { force: true });

    // By hand: the same binary and argv, minus -S, in a fresh runtime dir, with a client attached
    // to the serial socket as soon as it exists (without one, QEMU drops the output).
    const args = launch.args.filter((a) => a !== '-S');
    fs.mkdirSync(path.join(sb.runtime, uuid), { recursive: true });
    from = fs.existsSync(serialLog) ? fs.statSync(serialLog).size : 0;
    t0 = performance.now();
    const rawFirst = whenLogShows(serialLog, '', from);
    const rawPrompt = whenLogShows(serialLog, PROMPT, from);
    const qemu = spawn(launch.qemuBinary, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const viewer = await attachWhenReady(path.join(sb.runtime, uuid, 'serial.sock'));
    rows.qemu.first.push((await rawFirst) - t0);
    rows.qemu.prompt.push((await rawPrompt) - t0);
    viewer.destroy();
    qemu.kill('SIGKILL');
    await new Promise((r) => qemu.on('exit', r));
    fs.rmSync(path.join(sb.runtime, uuid), { recursive: true, force: true });
  }

  const out = [];
  out.push(`start-time (${RUNS} runs each, medians; ${machineInfo()}; accel ${argv?.accel})`);
  out.push(`| measure | vmdesk start (CLI) | Start in a running app (core loaded) | same QEMU argv by hand | ratio CLI | ratio app |`);
  out.push(`| --- | --- | --- | --- | --- | --- |`);
  for (const [label, key] of [
    ['start → first serial byte', 'first'],
    ['start → shell prompt', 'prompt'],
  ]) {
    const v = median(rows.vmdesk[key]);
    const a = median(rows.app[key]);
    const q = median(rows.qemu[key]);
    out.push(`| ${label} | ${fmt(v)} | ${fmt(a)} | ${fmt(q)} | ${(v / q).toFixed(3)} | ${(a / q).toFixed(3)} |`);
  }
  console.log(out.join('\n'));
} finally {
  sb.cleanup();
}
