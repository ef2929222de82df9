import type en from '../en/preferences';

export default {
  title: 'Globale Einstellungen',
  language: 'Sprache',
  system: 'Systemvorgabe ({language})',
  systemHint: 'Wie Ihr Desktop oder Browser eingestellt ist: {languages}.',
  hint: 'Das ganze Fenster wechselt sofort die Sprache, Konsolenfenster folgen. Die Wahl wird in diesem Browser gespeichert.',
  names: {
    en: 'English',
    de: 'Deutsch',
  },
} satisfies typeof en;
