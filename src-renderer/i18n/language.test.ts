import { computed } from 'vue';
import { afterEach, describe, expect, it } from 'vitest';
import { intlTag, isLanguagePreference, primaryTag, resolveLocale, systemLocale } from './language';
import { currentLocale, elementLocale, showLocale, t } from './index';

describe('the language shown', () => {
  it('follows the desktop: the first of its languages VMDesk speaks, else English', () => {
    expect(systemLocale(['de-DE', 'en-US'])).toBe('de');
    expect(systemLocale(['de-AT'])).toBe('de');
    expect(systemLocale(['en-GB', 'de-DE'])).toBe('en');
    expect(systemLocale(['fr-FR', 'de-CH'])).toBe('de');
    expect(systemLocale(['fr-FR', 'ja'])).toBe('en');
    expect(systemLocale([])).toBe('en');
    expect(primaryTag('DE_de')).toBe('de');
  });

  it('is the user’s choice when there is one', () => {
    expect(resolveLocale('en', ['de-DE'])).toBe('en');
    expect(resolveLocale('de', ['en-US'])).toBe('de');
    expect(resolveLocale('system', ['de-DE'])).toBe('de');
    expect(isLanguagePreference('system')).toBe(true);
    expect(isLanguagePreference('fr')).toBe(false);
    expect(isLanguagePreference(null)).toBe(false);
  });

  it('formats in the desktop’s own variant of the language, else the usual one', () => {
    expect(intlTag('de', ['de-AT', 'en-US'])).toBe('de-AT');
    expect(intlTag('de', ['en-GB'])).toBe('de-DE');
    expect(intlTag('en', ['de-DE', 'en-GB'])).toBe('en-GB');
    expect(intlTag('en', ['fr'])).toBe('en-US');
  });
});

describe('switching the language', () => {
  afterEach(() => showLocale('en'));

  it('changes what computeds and templates read at once, Element Plus’s strings included', async () => {
    const title = computed(() => t('preferences.language'));
    expect(currentLocale.value).toBe('en');
    expect(title.value).toBe('Language');
    expect(elementLocale.value).toBeUndefined();
    await showLocale('de');
    expect(currentLocale.value).toBe('de');
    expect(title.value).toBe('Sprache');
    expect(elementLocale.value?.name).toBe('de');
    expect(elementLocale.value?.el.messagebox).toMatchObject({ cancel: 'Abbrechen' });
    await showLocale('en');
    expect(title.value).toBe('Language');
    expect(elementLocale.value).toBeUndefined();
  });

  it('the last of two quick switches wins', async () => {
    const first = showLocale('de');
    const second = showLocale('en');
    await Promise.all([first, second]);
    expect(currentLocale.value).toBe('en');
  });
});
