// Lint is where the architecture is enforced: Nx module boundaries between projects, and the
// purity of every service's domain/ folder.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const frameworkPackages = [
  '@nestjs/*', 'kafkajs', 'pg', 'typeorm', '@grpc/*', '@clickhouse/*', 'chdb', 'onnxruntime-node',
  'fastify', 'pino', '@opentelemetry/*', '@loopline/messaging', '@loopline/infra', '@loopline/artifacts',
];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.nx/**', '**/.loopline/**', 'libs/contracts/src/gen/**', 'infra/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        allow: [],
        depConstraints: [
          { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'] },
          { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'] },
          { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
          { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'] },
          { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'] },
        ],
      }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='it'][callee.property.name='only']", message: 'it.only is not allowed' },
        { selector: "CallExpression[callee.object.name='describe'][callee.property.name='only']", message: 'describe.only is not allowed' },
      ],
    },
  },
  {
    // Plain CommonJS entry points that run before anything is installed or compiled.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests (and their helpers under test/) may use the shared test helpers; production code of a platform lib may not.
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        depConstraints: [
          { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'] },
          { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'] },
          { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', 'type:testing'] },
          { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'] },
          { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'] },
        ],
      }],
    },
  },
  {
    // Domain code is pure: decisions and state, no framework, no I/O, no clock.
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: frameworkPackages, message: 'domain/ is pure: framework and I/O live in adapters/' }] }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'time arrives in command metadata' },
        { object: 'crypto', property: 'randomUUID', message: 'ids arrive in command metadata' },
      ],
    },
  },
];
