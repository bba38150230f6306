// @ts-check
/**
 * Berth ESLint flat config.
 *
 * Lint the whole repo with:  npm run lint   (= eslint --max-warnings=0 .)
 *
 * - TypeScript files: typescript-eslint `recommendedTypeChecked` via the project service
 *   (each file is checked against the nearest tsconfig.json, i.e. the project's composite config).
 * - Every file that belongs to an Nx project: `@nx/enforce-module-boundaries` (scope/type tags
 *   from each project.json) plus a ban on deep imports into other workspace packages.
 * - eslint-config-prettier last: formatting is prettier's job, not ESLint's.
 */
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { createProjectGraphAsync } from '@nx/devkit';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const rootDir = import.meta.dirname;

// `@nx/enforce-module-boundaries` only reads the *cached* project graph
// (.nx/workspace-data/project-graph.json). When there is none (fresh clone, CI) it prints a
// warning on stdout and silently skips every check, and a stale cache misses new projects and
// new npm packages. Computing the graph here keeps `eslint` self-sufficient: the rule always
// sees the current graph. (Nx reuses its incremental cache, so this costs ~1s.) No daemon is
// started from a lint run unless NX_DAEMON is set explicitly.
process.env.NX_DAEMON ??= 'false';
await createProjectGraphAsync({ exitOnError: false, resetDaemonClient: false });

/** The Node.js globals that plain JS files (bin/, scripts/, tools/) may use. */
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Buffer',
    'URL',
    'URLSearchParams',
    'TextDecoder',
    'TextEncoder',
    'clearImmediate',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'global',
    'performance',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);

const TS_FILES = ['**/*.ts', '**/*.mts', '**/*.cts'];
const JS_FILES = ['**/*.js', '**/*.mjs', '**/*.cjs'];

/** Deep imports into another workspace package bypass its public entry point (index.ts). */
const deepImportPatterns = [
  {
    group: ['@berth/*/src', '@berth/*/src/**', '@berth/*/dist', '@berth/*/dist/**'],
    message:
      "Import a workspace library by its package name only (e.g. '@berth/oci'); export what you need from its src/index.ts.",
  },
];

/**
 * Tag rules. Every project needs one `scope:*` and one `type:*` tag (project.json).
 * A project matching several constraints must satisfy all of them.
 */
const depConstraints = [
  // --- scope: which product surface may use what
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:data-plane', onlyDependOnLibsWithTags: ['scope:data-plane', 'scope:shared'] },
  {
    sourceTag: 'scope:control-plane',
    onlyDependOnLibsWithTags: ['scope:control-plane', 'scope:shared'],
  },
  { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:web', 'scope:shared'] },

  // --- type: layering (apps and e2e projects are never importable; the rule enforces that too)
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: [
      'type:feature',
      'type:data-access',
      'type:domain',
      'type:util',
      'type:contracts',
    ],
  },
  {
    sourceTag: 'type:e2e',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain'],
  },
  {
    sourceTag: 'type:feature',
    onlyDependOnLibsWithTags: [
      'type:feature',
      'type:data-access',
      'type:domain',
      'type:util',
      'type:contracts',
    ],
  },
  {
    sourceTag: 'type:data-access',
    onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util', 'type:contracts'],
  },
  {
    sourceTag: 'type:domain',
    onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:contracts'],
  },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
  {
    sourceTag: 'type:contracts',
    onlyDependOnLibsWithTags: ['type:contracts'],
    // Contracts are pure types/functions shared by every plane: no frameworks, drivers or SDKs.
    // (Globs are anchored: 'pg' bans `pg` and `pg/...`, not `pg-protocol`.)
    bannedExternalImports: [
      'typeorm',
      'typeorm/*',
      'bullmq',
      'bullmq/*',
      'ioredis',
      'ioredis/*',
      'pg',
      'pg/*',
      '@aws-sdk/*',
      '@nestjs/*',
    ],
  },
];

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    '**/dist/',
    '**/coverage/',
    '**/.nx/',
    '**/tmp/',
    'data/',
    '.test-services/',
    'artifacts/',
    'helm/',
    'deploy/',
    '**/*.d.ts',
    '**/*.tsbuildinfo',
  ]),

  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  // --- every JS/TS file
  js.configs.recommended,

  // --- plain JS (config files, bin/, scripts/, tools/): no type information
  {
    files: JS_FILES,
    languageOptions: { ecmaVersion: 2023, globals: nodeGlobals },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    // sourceType commonjs adds require/module/exports; the module-scope paths come from Node.
    languageOptions: {
      sourceType: 'commonjs',
      globals: { __dirname: 'readonly', __filename: 'readonly' },
    },
  },

  // --- TypeScript, type-aware
  {
    files: TS_FILES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: rootDir,
        // tsconfig.base.json sets both; with type information the parser reads them from the
        // program anyway. Stated here so consistent-type-imports never turns a class that
        // NestJS injects through decorator metadata into an `import type` (the rule skips
        // files with decorators when both flags are on).
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it/test return promises that the runner tracks itself.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },

  // --- module boundaries (TS and JS alike)
  {
    files: [...TS_FILES, ...JS_FILES],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allowCircularSelfDependency: false,
          allow: [],
          depConstraints,
        },
      ],
      'no-restricted-imports': ['error', { patterns: deepImportPatterns }],
    },
  },

  // --- must stay last: turns off every rule that conflicts with prettier
  prettier,
);
