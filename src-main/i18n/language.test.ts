import { describe, expect, it } from 'vitest';
import { languageForDesktop, languageFromEnv, languageOfLocale } from './language.js';

describe('languageOfLocale', () => {
  it('reads the language of POSIX and BCP 47 locale names', () => {
    for (const locale of ['de_DE.UTF-8', 'de_AT', 'de-CH', 'de', 'DE_de.utf8', 'de@euro', 'de.UTF-8'])
      expect(languageOfLocale(locale), locale).toBe('de');
    for (const locale of ['en_US.UTF-8', 'en_GB', 'en-US', 'en']) expect(languageOfLocale(locale), locale).toBe('en');
  });

  it('has no language for C, POSIX, empty, unknown languages or lookalikes', () => {
    for (const locale of ['C', 'C.UTF-8', 'POSIX', '', undefined, 'fr_FR.UTF-8', 'zh-Hans', 'deu', 'dex_DE', 'german'])
      expect(languageOfLocale(locale), String(locale)).toBeNull();
  });
});

describe('languageFromEnv (the CLI)', () => {
  it('is English when nothing is set', () => {
    expect(languageFromEnv({})).toBe('en');
  });

  it('follows LANG, then LC_MESSAGES over it, then LC_ALL over both', () => {
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8' })).toBe('de');
    expect(languageFromEnv({ LANG: 'en_US.UTF-8', LC_MESSAGES: 'de_DE.UTF-8' })).toBe('de');
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', LC_MESSAGES: 'en_US.UTF-8' })).toBe('en');
    expect(languageFromEnv({ LANG: 'en_US.UTF-8', LC_MESSAGES: 'en_US.UTF-8', LC_ALL: 'de_DE.UTF-8' })).toBe('de');
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', LC_MESSAGES: 'de_DE.UTF-8', LC_ALL: 'en_US.UTF-8' })).toBe('en');
  });

  it('lets C and POSIX decide as any locale does (English), and skips variables set but empty', () => {
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', LC_ALL: 'C' })).toBe('en');
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', LC_ALL: 'C.UTF-8' })).toBe('en');
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', LC_MESSAGES: 'POSIX' })).toBe('en');
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', LC_ALL: '', LC_MESSAGES: '' })).toBe('de');
  });

  it('speaks English for a language it has no catalogue for, without looking further', () => {
    expect(languageFromEnv({ LANG: 'fr_FR.UTF-8' })).toBe('en');
    // LC_ALL decides, even though LANG names a language VMDesk speaks.
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', LC_ALL: 'fr_FR.UTF-8' })).toBe('en');
  });

  it('takes VMDESK_LANG over every locale variable, and ignores a value it does not know', () => {
    expect(languageFromEnv({ LC_ALL: 'de_DE.UTF-8', VMDESK_LANG: 'en' })).toBe('en');
    expect(languageFromEnv({ LC_ALL: 'C.UTF-8', VMDESK_LANG: 'de' })).toBe('de');
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', VMDESK_LANG: 'fr' })).toBe('de');
    expect(languageFromEnv({ LANG: 'de_DE.UTF-8', VMDESK_LANG: '' })).toBe('de');
  });
});

describe('languageForDesktop (the Electron menu)', () => {
  it('takes the first preferred language it speaks, then the app locale, then English', () => {
    expect(languageForDesktop(undefined, ['de-DE', 'en-US'], 'en-US')).toBe('de');
    expect(languageForDesktop(undefined, ['fr-FR', 'de-DE'], 'fr')).toBe('de');
    expect(languageForDesktop(undefined, ['en-GB', 'de-DE'], 'de')).toBe('en');
    expect(languageForDesktop(undefined, [], 'de')).toBe('de');
    expect(languageForDesktop(undefined, ['fr-FR'], 'it')).toBe('en');
  });

  it('takes VMDESK_LANG over the desktop', () => {
    expect(languageForDesktop('en', ['de-DE'], 'de')).toBe('en');
    expect(languageForDesktop('de', ['en-US'], 'en-US')).toBe('de');
    expect(languageForDesktop('xx', ['de-DE'], 'en')).toBe('de');
  });
});
