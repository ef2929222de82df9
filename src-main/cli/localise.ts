/**
 * Commander's own words (help headings, its parse errors) in the CLI's language. English passes through untouched, so the English output stays what scripts and
 * tests have always read.
 */
import { Help, type Argument, type Option, type OutputConfiguration } from 'commander';
import { language, t, type Key } from '../i18n/i18n.js';
import { printable } from './format.js';

const HEADINGS: Record<string, Key> = {
  'Usage:': 'cli.help.usage',
  'Arguments:': 'cli.help.arguments',
  'Options:': 'cli.help.options',
  'Global Options:': 'cli.help.globalOptions',
  'Commands:': 'cli.help.commands',
};

/** The "(choices: …, default: …)" commander appends to a description. */
function localiseExtras(description: string): string {
  return description.replace(/\b(choices|default): /g, (_, word: 'choices' | 'default') => `${t(`cli.help.${word}`)}: `);
}

/** The placeholders "[options]" and "[command]" of a usage line or a command's term. */
function localiseTokens(text: string): string {
  return text.replace(/\[options\]/g, `[${t('cli.help.optionsToken')}]`).replace(/\[command\]/g, `[${t('cli.help.commandToken')}]`);
}

/** configureHelp() settings: headings, placeholders and the appended choices/defaults in the CLI's language. */
export function localisedHelp(): Partial<Help> {
  return {
    styleUsage(this: Help, usage: string) {
      return Help.prototype.styleUsage.call(this, localiseTokens(usage));
    },
    styleSubcommandTerm(this: Help, term: string) {
      return Help.prototype.styleSubcommandTerm.call(this, localiseTokens(term));
    },
    styleTitle: (title: string) => {
      const key = HEADINGS[title];
      return key ? t(key) : title;
    },
    optionDescription(this: Help, option: Option) {
      return localiseExtras(Help.prototype.optionDescription.call(this, option));
    },
    argumentDescription(this: Help, argument: Argument) {
      return localiseExtras(Help.prototype.argumentDescription.call(this, argument));
    },
  };
}

/** Commander's parse errors, as it words them, each with the key of its translation. */
const COMMANDER_ERRORS: Array<[RegExp, Key]> = [
  [/^error: unknown option '(?<name>.*)'$/, 'cli.commander.unknownOption'],
  [/^error: unknown command '(?<name>.*)'$/, 'cli.commander.unknownCommand'],
  [/^error: missing required argument '(?<name>.*)'$/, 'cli.commander.missingArgument'],
  [/^error: option '(?<name>.*)' argument missing$/, 'cli.commander.optionArgumentMissing'],
  [/^error: required option '(?<name>.*)' not specified$/, 'cli.commander.requiredOption'],
  [/^error: too many arguments.*$/, 'cli.commander.tooManyArguments'],
  [
    /^error: option '(?<name>.*)' argument '(?<value>.*)' is invalid\. Allowed choices are (?<choices>.*)\.$/,
    'cli.commander.invalidChoice',
  ],
  [/^\(Did you mean (?:one of )?(?<name>.*)\?\)$/, 'cli.commander.didYouMean'],
];

function localiseLine(line: string): string {
  for (const [pattern, key] of COMMANDER_ERRORS) {
    const m = pattern.exec(line);
    if (m) return t(key, { ...m.groups });
  }
  return line.replace(/^error: /, `${t('cli.errorPrefix')} `);
}

/** configureOutput() settings: commander's errors escaped for the terminal, and in the CLI's language. */
export function localisedOutput(): OutputConfiguration {
  return {
    outputError: (text, write) => {
      write(printable(language() === 'en' ? text : text.split('\n').map(localiseLine).join('\n')));
    },
  };
}
