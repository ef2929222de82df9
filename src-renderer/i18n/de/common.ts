import type en from '../en/common';

export default {
  appName: 'VMDesk',
  ok: 'OK',
  cancel: 'Abbrechen',
  close: 'Schließen',
  save: 'Speichern',
  remove: 'Entfernen',
  delete: 'Löschen',
  add: 'Hinzufügen',
  apply: 'Anwenden',
  create: 'Erstellen',
  on: 'An',
  off: 'Aus',
  none: 'Keine',
  reading: 'Wird gelesen …',
  loading: 'Wird geladen …',
  working: 'In Arbeit …',
  connecting: 'Verbindung wird hergestellt …',
} satisfies typeof en;
