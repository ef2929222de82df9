// The CLI in German: LANG=de_DE.UTF-8 turns its help, tables, state words, numbers and error framing
// German, while everything programs read (--json, exit codes) stays byte for byte what it is in the
// C locale; LC_ALL and VMDESK_LANG decide over LANG. The other integration tests read the English
// of the C.UTF-8 locale the harness pins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, vmdesk, type CliResult, type Sandbox } from './harness.js';

let sb: Sandbox;
let german: NodeJS.ProcessEnv;
let c: NodeJS.ProcessEnv;

beforeAll(() => {
  sb = makeSandbox();
  // A German desktop session: only LANG says so, as a login usually sets it.
  german = { ...sb.env, LANG: 'de_DE.UTF-8' };
  delete german.LC_ALL;
  delete german.LC_MESSAGES;
  c = { ...german, LC_ALL: 'C.UTF-8' };
});
afterAll(async () => {
  await sb.cleanup();
});

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return vmdesk(sb, args, { env });
}

/** The command's stdout; fails with its output unless it exits 0. */
async function say(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(args, env);
  expect(r.code, `vmdesk ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

describe('vmdesk in German', () => {
  it('gives its help in German, headings and commander’s own words too', async () => {
    const help = await say(['--help'], german);
    expect(help).toMatch(/^Aufruf: vmdesk /);
    expect(help).toContain('Befehle:');
    expect(help).toContain('Maschinen auflisten');
    expect(help).toContain('Hilfe zum Befehl anzeigen');
    expect(help).toContain('Auf einem entfernten Host');
    expect(help).not.toContain('list machines');

    const create = await say(['create', '--help'], german);
    expect(create).toContain('Optionen:');
    expect(create).toMatch(/--memory <MiB> +Arbeitsspeicher in MiB/);
    expect(create).toContain('(Auswahl: "bios", "uefi")');
    expect(create).not.toMatch(/choices|memory in MiB/);

    const stop = await say(['stop', '--help'], german);
    expect(stop).toContain('(Standard: 60)');
    const disk = await say(['disk', '--help'], german);
    expect(disk).toContain('Argumente:');
    expect(disk).toMatch(/name +die Maschine/);

    // The same help in the C locale is the English every script and test has read.
    const english = await say(['create', '--help'], c);
    expect(english).toMatch(/^Usage: vmdesk create /);
    expect(english).toMatch(/--memory <MiB> +memory in MiB/);
    expect(english).toContain('(choices: "bios", "uefi")');
  });

  it('creates, lists and shows a machine in German, its numbers with a decimal comma', async () => {
    const created = await say(['create', 'de1', '--memory', '64', '--network', 'none', '--disk', '1M'], german);
    expect(created).toMatch(/^de1 \([0-9a-f-]{36}\) in \S+ erstellt\n$/);

    const list = await say(['list'], german);
    expect(list.split('\n')[0]).toMatch(/^NAME +ZUSTAND +CPUS +SPEICHER +BS +UUID$/);
    expect(list).toMatch(/^de1 +ausgeschaltet +1 +64 MiB +linux +[0-9a-f-]{36}$/m);

    const show = await say(['show', 'de1'], german);
    expect(show).toMatch(/^Zustand: +ausgeschaltet$/m);
    expect(show).toMatch(/^Speicher: +64 MiB$/m);
    expect(show).toMatch(/^Bootreihenfolge: +\S/m);
    expect(show).toMatch(/^Seriell: +(an|aus)$/m);
    // Every value starts in one column, however long the German labels are.
    const columns = new Set(
      show
        .split('\n')
        .filter((l) => /^\S[^:]*: +\S/.test(l))
        .map((l) => /^[^:]*: +/.exec(l)?.[0].length),
    );
    expect(columns.size).toBe(1);

    // The new 1 MiB disk: a size with a fraction, in the language's decimal sign.
    const media = await say(['media'], german);
    expect(media.split('\n')[0]).toMatch(/^DATEI +FORMAT +VIRTUELL +AUF PLATTE +BASISDATEI +BENUTZT VON$/);
    expect(media).toMatch(/ 1,0 MiB /);
    expect(media).toMatch(/ \d+,\d (KiB|MiB) /);
    expect(await say(['media'], c)).toMatch(/ 1\.0 MiB /);
  });

  it('prints the same --json, byte for byte, in German and in the C locale', async () => {
    for (const args of [
      ['list', '--json'],
      ['show', 'de1', '--json'],
      ['media', '--json'],
      ['nic', 'de1', '--json'],
    ]) {
      const [de, en] = [await run(args, german), await run(args, c)];
      expect(de.code, args.join(' ')).toBe(0);
      expect(de.stdout, args.join(' ')).toBe(en.stdout);
      expect(de.stdout.length).toBeGreaterThan(2);
    }
  });

  it('says the state words of a running machine in German', async () => {
    const started = await say(['start', 'de1'], german);
    expect(started).toMatch(/^de1: läuft \((TCG|KVM)\)\n$/);
    expect(await say(['list'], german)).toMatch(/^de1 +läuft /m);
    const stopped = await say(['stop', 'de1', '--force'], german);
    expect(stopped).toBe('de1: ausgeschaltet\n');
  });

  it('says an error in German, the core’s message too, with the exit code unchanged', async () => {
    const [de, en] = [await run(['start', 'nosuch'], german), await run(['start', 'nosuch'], c)];
    expect(en.code).toBeGreaterThan(1);
    expect(de.code).toBe(en.code);
    // The core's message is worded in German too (src-main/api/messages), inside the CLI's frame.
    expect(en.stderr).toBe('vmdesk: No machine named "nosuch"\n');
    expect(de.stderr).toBe('vmdesk: Fehler: Keine Maschine namens „nosuch“\n');

    // The CLI's own checks of its arguments say it in German.
    const [deArg, enArg] = [await run(['create', 'x', '--cpus', 'abc'], german), await run(['create', 'x', '--cpus', 'abc'], c)];
    expect(enArg.stderr).toBe('vmdesk: --cpus must be a whole number, not "abc"\n');
    expect(deArg.stderr).toBe('vmdesk: Fehler: --cpus muss eine ganze Zahl sein, nicht "abc"\n');
    expect(deArg.code).toBe(enArg.code);

    // Commander's parse errors too.
    const [deParse, enParse] = [await run(['lisst'], german), await run(['lisst'], c)];
    expect(enParse.stderr).toMatch(/^error: unknown command 'lisst'/);
    expect(deParse.stderr).toMatch(/^Fehler: unbekannter Befehl 'lisst'\n\(Meinten Sie list\?\)\n/);
    expect(deParse.code).toBe(enParse.code);
    expect(deParse.code).not.toBe(0);
  });

  it('lets VMDESK_LANG=en, LC_ALL and LC_MESSAGES decide over LANG=de_DE.UTF-8', async () => {
    const english = await say(['list'], c);
    expect(english.split('\n')[0]).toMatch(/^NAME +STATE +CPUS +MEMORY +OS +UUID$/);
    expect(english).toMatch(/^de1 +stopped /m);
    expect(await say(['list'], { ...german, VMDESK_LANG: 'en' })).toBe(english);
    expect(await say(['list'], { ...german, LC_MESSAGES: 'C' })).toBe(english);
    expect(await say(['list'], { ...c, VMDESK_LANG: 'de' })).toMatch(/^de1 +ausgeschaltet /m);
    expect(await say(['--help'], { ...german, VMDESK_LANG: 'en' })).toMatch(/^Usage: vmdesk /);
  });
});
