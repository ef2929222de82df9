/**
 * The guard against untranslated templates: ESLint, with the project's own config, reports no
 * `@intlify/vue-i18n/no-raw-text` error in any .vue file of the renderer — and does report a raw
 * string put in a template, so a rule that silently stopped running would fail here too.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The renderer has no Node imports (eslint.config.js), its tests neither: the checkout's root from this file's URL.
const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname).replace(/\/$/, '');
const RULE = '@intlify/vue-i18n/no-raw-text';
const eslint = new ESLint({ cwd: ROOT });

function rawTexts(results: ESLint.LintResult[]): string[] {
  return results.flatMap((r) =>
    r.messages.filter((m) => m.ruleId === RULE).map((m) => `${r.filePath.slice(ROOT.length + 1)}:${m.line}: ${m.message}`),
  );
}

describe('no raw text in templates', () => {
  it('no .vue file of the renderer shows a string that does not go through i18n', async () => {
    const results = await eslint.lintFiles(['src-renderer/**/*.vue']);
    expect(results.length).toBeGreaterThan(50);
    expect(rawTexts(results)).toEqual([]);
  }, 120_000);

  it('a raw string added to a template is an error (the rule is wired)', async () => {
    const probe = [
      '<script setup lang="ts">',
      "import { t } from '../../i18n';",
      '</script>',
      '',
      '<template>',
      '  <el-dialog :title="t(\'common.close\')">',
      "    <p>{{ t('common.ok') }} · 42</p>",
      '    <p>Start the machine</p>',
      '    <el-input placeholder="Search machines" />',
      '  </el-dialog>',
      '</template>',
      '',
    ].join('\n');
    const results = await eslint.lintText(probe, { filePath: `${ROOT}/src-renderer/components/main/PreferencesDialog.vue` });
    expect(rawTexts(results)).toEqual([
      "src-renderer/components/main/PreferencesDialog.vue:8: raw text 'Start the machine' is used",
      "src-renderer/components/main/PreferencesDialog.vue:9: raw text 'Search machines' is used",
    ]);
  }, 60_000);
});
