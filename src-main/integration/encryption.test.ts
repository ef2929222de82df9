// Encrypted disks with the demo guest, through the real CLI: what the guest writes never reaches the
// image in plain text, the passphrase is in no file and no command line while the machine runs, a
// missing or wrong passphrase starts nothing, a restart reads the data back, and `vmdesk encrypt`
// turns a plain machine into one whose disk the same checks hold for.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLinesHolding, contains, filesHolding, makeKeys, marker, PROMPT, READ_MARKER, writeMarker } from './encryption-helpers.js';
import { guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const MARKER = marker('');
const WRITE_MARKER = writeMarker('');

let sb: Sandbox;
let keys: string;
let passFile: string;
let wrongFile: string;
let PASSPHRASE: string;

beforeAll(() => {
  sb = makeSandbox();
  ({ dir: keys, passFile, wrongFile, passphrase: PASSPHRASE } = makeKeys());
});
afterAll(async () => {
  await sb.cleanup();
  fs.rmSync(keys, { recursive: true, force: true });
});

interface Shown {
  uuid: string;
  dir: string;
  config: { disks: Array<{ id: string; file: string; encrypted?: boolean }> };
  status: { state: string };
}

async function show(name: string): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
}

async function diskFile(name: string): Promise<string> {
  const { dir, config } = await show(name);
  const file = config.disks[0]?.file ?? '';
  return path.isAbsolute(file) ? file : path.join(dir, file);
}

function qemuCommandLine(uuid: string): string {
  const pid = fs.readFileSync(path.join(sb.runtime, uuid, 'qemu.pid'), 'utf8').trim();
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

async function boot(name: string, passphraseFile?: string): Promise<void> {
  await ok(sb, ['start', name, ...(passphraseFile ? ['--passphrase-file', passphraseFile] : [])], { timeoutMs: 180_000 });
  await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120']);
}

describe('encrypted disks', () => {
  it('create --encrypt: the config says encrypted, the image is LUKS, no passphrase in machine.json', async () => {
    await ok(sb, ['create', 'sealed', '--demo', '--memory', '128', '--disk', '64M', '--encrypt', '--passphrase-file', passFile]);
    await ok(sb, ['create', 'plain', '--demo', '--memory', '128', '--disk', '64M']);
    const sealed = await show('sealed');
    expect(sealed.config.disks).toHaveLength(1);
    expect(sealed.config.disks[0]?.encrypted).toBe(true);
    expect((await show('plain')).config.disks[0]?.encrypted).toBeUndefined();
    // The LUKS header sits inside the qcow2 file.
    expect(contains(await diskFile('sealed'), 'LUKS')).toBe(true);
    expect(filesHolding(sb.home, PASSPHRASE)).toEqual([]);
  }, 300_000);

  it('no passphrase, or a wrong one: a clear error (exit 2) and nothing started', async () => {
    const { uuid } = await show('sealed');
    const none = await vmdesk(sb, ['start', 'sealed']);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/needs a passphrase: give --passphrase-file FILE, or run this from a terminal/);
    const wrong = await vmdesk(sb, ['start', 'sealed', '--passphrase-file', wrongFile], { timeoutMs: 180_000 });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/Wrong passphrase for sealed/);
    expect((await show('sealed')).status.state).toBe('stopped');
    expect(fs.existsSync(path.join(sb.runtime, uuid))).toBe(false);
    expect(commandLinesHolding(uuid)).toEqual([]);
  }, 300_000);

  it('running: the passphrase is in no command line and no file of the library or the runtime dir; QEMU read it from a FIFO now gone', async () => {
    await boot('sealed', passFile);
    await boot('plain');
    const { uuid } = await show('sealed');
    expect(commandLinesHolding(PASSPHRASE)).toEqual([]);
    expect(filesHolding(sb.home, PASSPHRASE)).toEqual([]);
    expect(filesHolding(sb.runtime, PASSPHRASE)).toEqual([]);
    const cmdline = qemuCommandLine(uuid);
    expect(cmdline).toContain(`secret,id=vmdesk-key,file=${path.join(sb.runtime, uuid, 'secret.fifo')}`);
    expect(cmdline).toContain('"encrypt":{"format":"luks","key-secret":"vmdesk-key"}');
    expect(fs.existsSync(path.join(sb.runtime, uuid, 'secret.fifo'))).toBe(false);
  }, 400_000);

  it("what the guest writes is not in the encrypted image in plain text (it is in the plain machine's)", async () => {
    for (const name of ['sealed', 'plain']) expect(await guestSays(sb, name, WRITE_MARKER, 'written-6', 60)).toBe('written-6');
    await ok(sb, ['stop', 'sealed', '--force']);
    await ok(sb, ['stop', 'plain', '--force']);
    expect(contains(await diskFile('sealed'), MARKER)).toBe(false);
    expect(contains(await diskFile('plain'), MARKER)).toBe(true);
  }, 300_000);

  it('restarted with its passphrase, the guest reads its data back', async () => {
    await boot('sealed', passFile);
    expect(await guestSays(sb, 'sealed', READ_MARKER, /MARK-\d+/, 60)).toBe(MARKER);
    // Its RAM holds the plain data: a saved state would write it unencrypted.
    const save = await vmdesk(sb, ['save-state', 'sealed']);
    expect(save.code, save.stderr).toBe(5);
    expect(save.stderr).toMatch(/Cannot save the state of sealed: its disks are encrypted, and its memory.* would be written unencrypted/);
    expect((await show('sealed')).status.state).toBe('running');
    await ok(sb, ['stop', 'sealed', '--force']);
  }, 300_000);

  it('what would copy its disks unencrypted is refused, before anything is written: export, copy to a device; encrypt with a snapshot is refused too', async () => {
    await ok(sb, ['create', 'vault', '--disk', '16M', '--encrypt', '--passphrase-file', passFile]);
    const out = path.join(keys, 'out');
    fs.mkdirSync(out);
    for (const [args, why] of [
      [['export', 'vault', path.join(out, 'vault.ova')], /VMDK disks, which have no encryption/],
      [['v2p', 'vault', path.join(out, 'vault.raw')], /the device would get its disks in plain text/],
    ] as const) {
      const r = await vmdesk(sb, [...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(5);
      expect(r.stderr).toMatch(/Cannot [a-z ]+ vault: its disks are encrypted, and/);
      expect(r.stderr).toMatch(why);
    }
    expect(fs.readdirSync(out)).toEqual([]);
    await ok(sb, ['create', 'snapped', '--disk', '16M']);
    await ok(sb, ['snapshot', 'snapped', 'take', 'one']);
    const refused = await vmdesk(sb, ['encrypt', 'snapped', '--passphrase-file', passFile]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/it has snapshots, whose images would stay unencrypted/);
  }, 300_000);

  it('vmdesk encrypt: the plain machine gets an encrypted disk (the plain image gone), which starts with the passphrase only and keeps the data', async () => {
    const before = await diskFile('plain');
    const r = await vmdesk(sb, ['encrypt', 'plain', '--passphrase-file', passFile], { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Encrypted plain: disk0/);
    const after = await show('plain');
    expect(after.config.disks[0]?.encrypted).toBe(true);
    expect(fs.existsSync(before)).toBe(false);
    expect(filesHolding(after.dir, MARKER).filter((f) => !f.includes(`${path.sep}logs${path.sep}`))).toEqual([]);
    expect((await vmdesk(sb, ['start', 'plain', '--passphrase-file', wrongFile], { timeoutMs: 180_000 })).code).toBe(2);
    await boot('plain', passFile);
    expect(await guestSays(sb, 'plain', READ_MARKER, /MARK-\d+/, 60)).toBe(MARKER);
    expect(commandLinesHolding(PASSPHRASE)).toEqual([]);
    expect(filesHolding(sb.runtime, PASSPHRASE)).toEqual([]);
    expect(filesHolding(sb.home, PASSPHRASE)).toEqual([]);
    await ok(sb, ['stop', 'plain', '--force']);
    const again = await vmdesk(sb, ['encrypt', 'plain', '--passphrase-file', passFile]);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/already encrypted/);
  }, 600_000);
});
