import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'openapi/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The domain core is pure: no clock, no environment, no I/O clients.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Pass time in; the domain is pure.' },
        { object: 'process', property: 'env', message: 'Config is parsed once at the edge.' },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: ['fastify*', 'ioredis', 'ccxt', 'pino', 'node:fs', 'node:net', '*/stores/*', '*/market/*', '*/routes/*'] },
      ],
    },
  },
);
