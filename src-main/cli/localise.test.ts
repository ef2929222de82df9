import { Command, Option } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../i18n/i18n.js';
import { localisedHelp, localisedOutput } from './localise.js';

/** A small program set up as vmdesk's is; what it writes to stderr for these arguments. */
function errorOf(args: string[]): string {
  let written = '';
  const program = new Command('vmdesk')
    .configureHelp(localisedHelp())
    .configureOutput({ ...localisedOutput(), writeErr: (s) => (written += s), writeOut: (s) => (written += s) })
    .exitOverride();
  program
    .command('list')
    .argument('<name>')
    .option('--cpus <n>')
    .requiredOption('--text <s>')
    .addOption(new Option('--firmware <fw>').choices(['bios', 'uefi']));
  try {
    program.parse(args, { from: 'user' });
  } catch {
    // exitOverride: commander throws once it has written its error.
  }
  return written;
}

describe("commander's parse errors", () => {
  afterEach(() => setLanguage('en'));

  const cases: Array<[string[], string, string]> = [
    [['list', 'm', '--text', 'x', '--bogus'], "error: unknown option '--bogus'", "Fehler: unbekannte Option '--bogus'"],
    [['lisst'], "error: unknown command 'lisst'\n(Did you mean list?)", "Fehler: unbekannter Befehl 'lisst'\n(Meinten Sie list?)"],
    [['list', '--text', 'x'], "error: missing required argument 'name'", "Fehler: das Argument 'name' fehlt"],
    [['list', 'm', '--text'], "error: option '--text <s>' argument missing", "Fehler: der Option '--text <s>' fehlt ihr Wert"],
    [['list', 'm'], "error: required option '--text <s>' not specified", "Fehler: die Option '--text <s>' ist nötig"],
    [['list', 'm', 'n', '--text', 'x'], 'error: too many arguments for', 'Fehler: zu viele Argumente'],
    [
      ['list', 'm', '--text', 'x', '--firmware', 'foo'],
      "error: option '--firmware <fw>' argument 'foo' is invalid. Allowed choices are bios, uefi.",
      "Fehler: 'foo' ist für die Option '--firmware <fw>' ungültig. Erlaubt sind bios, uefi.",
    ],
  ];

  for (const [args, english, german] of cases) {
    it(`says "${english.split('\n')[0]}" as commander does in English, and in German`, () => {
      expect(errorOf(args)).toContain(english);
      setLanguage('de');
      expect(errorOf(args).startsWith(german), errorOf(args)).toBe(true);
    });
  }

  it('translates the headings and the appended choices and defaults of the help', () => {
    setLanguage('de');
    const program = new Command('vmdesk').configureHelp(localisedHelp());
    program.addOption(new Option('--firmware <fw>', 'Firmware').choices(['bios', 'uefi']).default('bios'));
    const help = program.helpInformation();
    expect(help).toMatch(/^Aufruf: vmdesk \[Optionen\]\n/);
    expect(help).toContain('Optionen:');
    expect(help).toContain('Firmware (Auswahl: "bios", "uefi", Standard: "bios")');
  });

  it('names the placeholders of usage lines and command terms in German, and leaves English as commander writes it', () => {
    const help = (): string => {
      const program = new Command('vmdesk').configureHelp(localisedHelp());
      program.command('create').argument('<name>').option('--cpus <n>');
      return program.helpInformation();
    };
    const english = help();
    expect(english).toMatch(/^Usage: vmdesk \[options\] \[command\]\n/);
    expect(english).toMatch(/^ {2}create \[options\] <name>/m);
    setLanguage('de');
    const german = help();
    expect(german).toMatch(/^Aufruf: vmdesk \[Optionen\] \[Befehl\]\n/);
    expect(german).toMatch(/^ {2}create \[Optionen\] <name>/m);
    expect(german).toMatch(/^ {2}help \[Befehl\]/m);
  });
});
