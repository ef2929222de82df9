// Lint with type information; layering rules keep the architecture visible in the imports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import pluginVue from 'eslint-plugin-vue';
import vueI18n from '@intlify/eslint-plugin-vue-i18n';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-results/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src-main/core/**/*.ts', 'src-main/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The core runs without Electron: only src-main/electron may import it.' }],
          patterns: [{ group: ['**/cli/**', '**/server/**', '**/electron/**'], message: 'The core must not depend on its front ends.' }],
        },
      ],
    },
  },
  {
    files: ['src-main/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/core/**'], message: 'The API contract does not depend on the core.' }] },
      ],
    },
  },
  ...pluginVue.configs['flat/recommended'],
  {
    // The renderer runs in a browser (or a sandboxed Electron window): no Node globals, and it reaches
    // the core only through the API contract.
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.vue'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer has no Electron access: use window.vmdesk through api/client.ts.' }],
          patterns: [
            {
              group: ['**/src-main/core/**', '**/src-main/server/**', '**/src-main/electron/**', '**/src-main/cli/**'],
              message: 'The renderer reaches the core only through the API contract (src-main/api).',
            },
            { group: ['node:*'], message: 'The renderer has no Node access.' },
          ],
        },
      ],
    },
  },
  {
    // Templates are type-checked by vue-tsc; ESLint parses .vue files without type information.
    files: ['**/*.vue'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], projectService: false, sourceType: 'module' },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      // Prettier owns the layout of templates.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
    },
  },
  {
    // Every word a template shows goes through vue-i18n ($t, <i18n-t>): raw text in a template, or in
    // an attribute a person reads, is an error (src-renderer/i18n/no-raw-text.test.ts proves the rule
    // runs). Only what reads the same in every language passes (ignorePattern): figures, punctuation
    // and symbols, a host path or a command-line token typed as an example (`/boot/vmlinuz`,
    // `console=ttyS0`: one word with a / or an =), a size such as `8G`; and the product's name. The plugin is registered alone, not through its
    // flat/base config, which would also lint every JSON and YAML file of the repository.
    // No localeDir: the catalogues are TypeScript (src-renderer/i18n/en, de), which vue-tsc checks
    // key by key; the plugin reads only JSON, YAML and JS catalogues, and no-raw-text needs none.
    files: ['src-renderer/**/*.vue'],
    plugins: { '@intlify/vue-i18n': vueI18n },
    settings: { 'vue-i18n': { messageSyntaxVersion: '^11.0.0' } },
    rules: {
      '@intlify/vue-i18n/no-raw-text': [
        'error',
        {
          ignorePattern: '^(?:[\\s\\p{N}\\p{P}\\p{S}]*|\\S*[/=]\\S*|\\d+[KMGT])$',
          ignoreText: ['VMDesk'],
          attributes: {
            '/.+/': [
              'title',
              'aria-label',
              'aria-description',
              'aria-valuetext',
              'alt',
              'placeholder',
              'label',
              'description',
              'content',
              'empty-text',
              'no-data-text',
              'active-text',
              'inactive-text',
              'confirm-button-text',
              'cancel-button-text',
              'action',
            ],
          },
        },
      ],
      '@intlify/vue-i18n/no-v-html': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Benchmarks run functions inside the page too.
    files: ['bench/**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.test.ts', 'bench/**/*.ts', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
