import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveCommand, shellQuote, stateRamKiB } from './ram-state.js';

describe('the exec: command that writes a RAM state', () => {
  it('writes exactly the stream to a path full of shell syntax, which appears only when complete', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vmdesk ram '$(touch pwned)` ;"));
    try {
      const file = path.join(dir, `x'; touch "pwned" $HOME.vmstate`);
      const data = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
      // As QEMU runs it: /bin/sh -c COMMAND with the stream on stdin.
      const r = spawnSync('/bin/sh', ['-c', saveCommand(file)], { input: data, cwd: dir });
      expect(r.status).toBe(0);
      const deadline = Date.now() + 10_000;
      while (!fs.existsSync(file) && Date.now() < deadline) spawnSync('sleep', ['0.02']);
      expect(fs.readFileSync(file).equals(data)).toBe(true);
      expect(fs.readdirSync(dir).sort()).toEqual([path.basename(file)]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('quotes for the shell', () => {
    const r = spawnSync('/bin/sh', ['-c', `printf %s ${shellQuote("a'b $c `d`")}`], { encoding: 'utf8' });
    expect(r.stdout).toBe("a'b $c `d`");
  });
});

describe('the RAM size a state was saved with', () => {
  it('is read from the stream QEMU wrote (its pc.ram block), and null for anything else', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-state-'));
    try {
      const file = path.join(dir, 'x.vmstate');
      // A real state: a paused QEMU with TCG's padded RAM migrated to a file, as a live snapshot is.
      const qmp = [
        '{"execute":"qmp_capabilities"}',
        `{"execute":"migrate","arguments":{"uri":${JSON.stringify(`exec:${saveCommand(file)}`)}}}`,
      ].join('\n');
      const script = `(echo ${shellQuote(qmp)}; while [ ! -e ${shellQuote(file)} ]; do sleep 0.05; done; echo '{"execute":"quit"}')`;
      const qemu = 'qemu-system-x86_64 -machine q35 -accel tcg -m size=131080K -nodefaults -display none -S -qmp stdio';
      const r = spawnSync('/bin/sh', ['-c', `${script} | timeout 60 ${qemu}`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(await stateRamKiB(file)).toBe(131080);
      fs.writeFileSync(path.join(dir, 'junk'), Buffer.alloc(1024, 7));
      expect(await stateRamKiB(path.join(dir, 'junk'))).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
