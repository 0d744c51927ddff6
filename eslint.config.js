// ESLint for mau (npm run lint runs it after tsc and before prettier --check; docs/project-layout.md).
// typescript-eslint's type-checked recommended rules, the few that matter most here made explicit, and
// eslint-plugin-n's rules for ES modules on Node. Every rule turned off or relaxed below says why.
import js from '@eslint/js'
import {defineConfig} from 'eslint/config'
import n from 'eslint-plugin-n'
import tseslint from 'typescript-eslint'

export default defineConfig(
  {ignores: ['dist/', 'coverage/', '.cache/', 'scripts/kafka/target/']},
  // A disable comment that no longer disables anything (the code moved, or was fixed) is an error too.
  {linterOptions: {reportUnusedDisableDirectives: 'error'}},
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended, n.configs['flat/recommended-module']],
    settings: {
      // src/ is published as dist/ ("files" in package.json): importing a devDependency from it is an error.
      n: {convertPath: [{include: ['src/**/*.ts'], exclude: [], replace: ['^src/(.+)\\.ts$', 'dist/$1.js']}]},
    },
    rules: {
      eqeqeq: 'error',
      // Private (never on a registry) yet packed and installed with --omit=dev: its devDependencies are absent there.
      'n/no-unpublished-import': ['error', {ignorePrivate: false}],
      // These match control characters on purpose: they are what the renderers strip and the tests look for.
      'no-control-regex': 'off',
      // Scripts run directly (bin/dev.js, two in scripts/) keep their shebang, though package.json lists only bin/run.js.
      'n/hashbang': ['error', {additionalExecutables: ['bin/dev.js', 'scripts/docs.mjs', 'scripts/stage-image.mjs']}],
      'n/no-unsupported-features/node-builtins': [
        'error',
        // Node's zstd is why engines asks for 22.15 (kafka-codecs.ts); import.meta.dirname has worked since
        // 20.11, stable (not experimental) only from 22.16: both are there on every Node mau runs on.
        {ignores: ['zlib.zstdCompressSync', 'zlib.zstdDecompressSync', 'import.meta.dirname']},
      ],
    },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: {allowDefaultProject: ['vitest.config.ts']},
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A consumer that forgets an await loses its ordering. `void p` marks a promise left to run on purpose,
      // and each such one handles its own rejection.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Leaving out keys by destructuring (`const {CI: _ci, ...env} = process.env`) is how the code omits them.
      '@typescript-eslint/no-unused-vars': ['error', {ignoreRestSiblings: true}],
      '@typescript-eslint/consistent-type-imports': ['error', {fixStyle: 'inline-type-imports'}],
      // oclif's flag parsers, defaults and hooks, kafkajs' codecs and retry callbacks take functions that
      // return a promise: an async function without await is the plain way to write one, and it turns a
      // throw into the rejection those callers expect. The rule found no mistake among its 31 findings.
      '@typescript-eslint/require-await': 'off',
      // tsc resolves every import under NodeNext and fails on a missing one; n's resolver does not map
      // dayjs' plugin paths or .mjs from TypeScript, so it only repeats tsc, wrongly.
      'n/no-missing-import': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests and benchmarks read the CLI's --json output (JSON.parse: any) and check it with expect, which
      // is the type check there; typing every document again would only repeat src/'s types.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['test/helpers/druid-standin.ts', 'test/helpers/druid-sql.ts'],
    rules: {
      // The Druid stand-in answers as Druid does, quoting whatever JSON value a request held in its messages.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    files: ['bin/run.js', 'src/core/exit.ts'],
    rules: {
      // Where mau leaves: its exit codes are its interface (src/core/errors.ts), and an old Node is told so
      // before anything is imported.
      'n/no-process-exit': 'off',
    },
  },
  {
    files: ['bin/run.js', 'scripts/docs.mjs'],
    rules: {
      // They import dist/, which npm run build writes; lint runs on a checkout without it, as CI does.
      'n/no-missing-import': 'off',
    },
  },
  {
    files: ['bench/**/*.ts'],
    rules: {
      // A benchmark is a script: it exits when its report is written, whatever handles a pool or kafkajs left open.
      'n/no-process-exit': 'off',
    },
  },
)
