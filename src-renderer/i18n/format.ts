/**
 * Numbers, sizes and dates in the current language's way (Intl): "1.5 GiB" / "1,5 GiB",
 * "12/3/2025, 4:05:00 PM" / "3.12.2025, 16:05:00". Every figure the renderer shows goes through
 * these (sizes: lib/machine-info, lib/storage-input, lib/migration, performance/series); reading the
 * current language, they are reactive in templates and computeds.
 *
 * Unit symbols (B, KiB, MiB, GiB, TiB, ms, s, min, %) are the same in every language VMDesk speaks
 * (IEC and SI symbols), so they are written here, not in the catalogues.
 */
import { currentLocale } from './index';
import { intlTag, navigatorLanguages } from './language';

/** The Intl tag of the language shown now (the desktop's own variant of it: de-AT, en-GB…). */
export function intlLocale(): string {
  return intlTag(currentLocale.value, navigatorLanguages());
}

const formats = new Map<string, Intl.NumberFormat>();
function numberFormat(tag: string, digits: number, grouping: boolean): Intl.NumberFormat {
  const key = `${tag}|${digits}|${grouping}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(tag, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: grouping });
    formats.set(key, f);
  }
  return f;
}

/** `v` with exactly `digits` decimals in the language's way ("1.5", "1,5"), without thousands separators. */
export function fixed(v: number, digits = 0, tag = intlLocale()): string {
  return numberFormat(tag, digits, false).format(v);
}

/** A whole number with the language's thousands separators ("12,345", "12.345"). */
export function grouped(v: number, tag = intlLocale()): string {
  return numberFormat(tag, 0, true).format(Math.round(v));
}

/** A number as typed by the user or reported by the core, decimals kept as they are ("0.5" / "0,5"). */
export function plain(v: number, tag = intlLocale()): string {
  return Number.isInteger(v) ? String(v) : new Intl.NumberFormat(tag, { useGrouping: false, maximumFractionDigits: 20 }).format(v);
}

/** "12 %", "1.5 %" / "1,5 %". */
export function percent(v: number, digits = 0, tag = intlLocale()): string {
  return `${fixed(v, digits, tag)} %`;
}

function validDate(iso: string | number | Date): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Date and time (snapshots, backups, the schedule's next run): what is not a date is shown as it is. */
export function formatDateTime(iso: string | number | Date, tag = intlLocale()): string {
  const d = validDate(iso);
  return d ? d.toLocaleString(tag) : String(iso);
}

/** Time of day (the memory policy's decisions). */
export function formatTime(iso: string | number | Date, tag = intlLocale()): string {
  const d = validDate(iso);
  return d ? d.toLocaleTimeString(tag) : String(iso);
}
