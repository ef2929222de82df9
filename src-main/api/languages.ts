/** The languages VMDesk speaks (its CLI, its menus and its renderer each have a catalogue for each). */
export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];
