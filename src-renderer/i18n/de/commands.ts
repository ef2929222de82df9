import type en from '../en/commands';

export default {
  preferences: 'Globale Einstellungen…',
} satisfies typeof en;
