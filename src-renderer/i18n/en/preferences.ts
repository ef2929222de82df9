/** File › Preferences…: the language, and what "System default" means here. */
export default {
  title: 'Preferences',
  language: 'Language',
  system: 'System default ({language})',
  systemHint: 'As your desktop or browser is set: {languages}.',
  hint: 'The whole window switches at once; console windows follow. The choice is kept in this browser.',
  /** Each language by its own name, the same in every catalogue. */
  names: {
    en: 'English',
    de: 'Deutsch',
  },
};
