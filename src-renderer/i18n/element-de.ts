/**
 * Element Plus's German strings, for the German UI only (loaded with the German catalogue). Its own
 * German leaves some labels of the components VMDesk uses in English (close buttons, number inputs,
 * table rows): those are given here.
 */
import type { Language } from 'element-plus/es/locale';
import de from 'element-plus/es/locale/lang/de.mjs';

const el = de.el;

export default {
  ...de,
  el: {
    ...el,
    inputNumber: { decrease: 'Wert verringern', increase: 'Wert erhöhen' },
    select: { ...el.select, loading: 'Lädt …', noMatch: 'Nichts gefunden', placeholder: 'Auswählen' },
    dropdown: { toggleDropdown: 'Menü öffnen oder schließen' },
    dialog: { close: 'Diesen Dialog schließen' },
    drawer: { close: 'Diesen Dialog schließen' },
    messagebox: { ...el.messagebox, title: 'Meldung', close: 'Diesen Dialog schließen' },
    table: {
      ...el.table,
      clearFilter: 'Alle',
      selectAllLabel: 'Alle Zeilen auswählen',
      selectRowLabel: 'Diese Zeile auswählen',
      expandRowLabel: 'Diese Zeile aufklappen',
      collapseRowLabel: 'Diese Zeile zuklappen',
      sortLabel: 'Nach {column} sortieren',
      filterLabel: 'Nach {column} filtern',
    },
    tag: { close: 'Dieses Schlagwort entfernen' },
  },
} satisfies Language;
