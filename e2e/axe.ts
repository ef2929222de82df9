/**
 * axe-core (Deque's accessibility checker) in a page of the UI: its source injected with a script
 * tag (the page's context must bypass its CSP, which refuses inline scripts), run on the whole
 * document in the light and the dark theme (dark follows prefers-color-scheme, emulated here), each
 * violation kept as one readable line per element.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, ImpactValue, RunOptions } from 'axe-core';
import type { Page } from 'playwright-core';

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const THEMES = ['light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

export interface Finding {
  rule: string;
  impact: ImpactValue;
  /** What was on screen (the test's words) and the theme. */
  where: string;
  /** The element, as axe's CSS selector. */
  target: string;
  /** axe's failure summary: what is wrong with that element, and the figures (contrast ratios). */
  summary: string;
}

type AxeWindow = Window & { axe?: { run(context: Document, options: RunOptions): Promise<AxeResults> } };

/**
 * Element Plus fades colours over a few hundred milliseconds: axe measuring mid-fade would report
 * colours no user sees for long. Without transitions the new theme is drawn at once, so a scan needs
 * no wait for them (a fixed wait per theme switch made most of the scan's time).
 */
const NO_TRANSITIONS = '*, *::before, *::after { transition: none !important; animation-duration: 0s !important; }';

/** Switches the page's colour scheme and waits until the theme followed it and is drawn. */
export async function useTheme(page: Page, theme: Theme): Promise<void> {
  if (!(await page.evaluate(() => document.getElementById('axe-no-transitions') !== null)))
    await page
      .addStyleTag({ content: NO_TRANSITIONS })
      .then((tag) => tag.evaluate((el) => ((el as HTMLElement).id = 'axe-no-transitions')));
  await page.emulateMedia({ colorScheme: theme });
  await page.waitForFunction((dark) => document.documentElement.classList.contains('dark') === dark, theme === 'dark');
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

/** axe's violations on the page as it is now, one finding per element. */
export async function axeFindings(page: Page, where: string): Promise<Finding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (window as AxeWindow).axe;
    if (!axe) throw new Error('axe-core did not load');
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      rule: v.id,
      impact: v.impact ?? 'minor',
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary ?? v.help })),
    }));
  });
  return violations.flatMap((v) => v.nodes.map((n) => ({ rule: v.rule, impact: v.impact, where, ...n })));
}

/**
 * The findings of the page in both themes (`where` gets the theme's name); it is left in the light
 * one. `inEachTheme` runs after each theme's scan (a screenshot, say).
 */
export async function axeBothThemes(page: Page, where: string, inEachTheme?: (theme: Theme) => Promise<void>): Promise<Finding[]> {
  const found: Finding[] = [];
  for (const theme of THEMES) {
    await useTheme(page, theme);
    found.push(...(await axeFindings(page, `${where} (${theme})`)));
    await inEachTheme?.(theme);
  }
  await useTheme(page, 'light');
  return found;
}

const SEVERE: ImpactValue[] = ['critical', 'serious'];

export function severe(found: Finding[]): Finding[] {
  return found.filter((f) => SEVERE.includes(f.impact));
}

/** One line per finding: `[serious] color-contrast — main window (dark): .el-tag > span — Fix any of the following: …`. */
export function describeFindings(found: Finding[]): string {
  return found.map((f) => `[${f.impact}] ${f.rule} — ${f.where}: ${f.target} — ${f.summary.replace(/\s+/g, ' ')}`).join('\n');
}
