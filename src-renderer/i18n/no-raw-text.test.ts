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
    // A component that does not exist: any new .vue file of the renderer is checked the same way.
    const results = await eslint.lintText(probe, { filePath: `${ROOT}/src-renderer/components/main/RawTextProbe.vue` });
    expect(rawTexts(results)).toEqual([
      "src-renderer/components/main/RawTextProbe.vue:8: raw text 'Start the machine' is used",
      "src-renderer/components/main/RawTextProbe.vue:9: raw text 'Search machines' is used",
    ]);
  }, 60_000);

  it('is an error for every .vue file of the renderer, not a warning and not only for some folders', async () => {
    const files = Object.keys(import.meta.glob('../**/*.vue'));
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      const config = (await eslint.calculateConfigForFile(`${ROOT}/src-renderer/${file.replace(/^\.\.\//, '')}`)) as {
        rules?: Record<string, unknown>;
      };
      const rule = config.rules?.[RULE];
      expect([Array.isArray(rule) ? rule[0] : rule, file]).toEqual([2, file]);
    }
  }, 60_000);
});
