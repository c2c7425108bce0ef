import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// ccxt costs about a second and 100+ MB to import: only the ccxt source may load it,
// and only on demand. Checked on the source text so this file never loads ccxt itself.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const VALUE_IMPORT = /^\s*import\s+(?!type\b)[^;]*from\s+['"]ccxt['"]|^\s*export\s+[^;]*from\s+['"]ccxt['"]|require\(['"]ccxt['"]\)/m;

describe('lazy ccxt import', () => {
  it('when any module under src/ is loaded, then ccxt is not imported at module load', () => {
    const offenders = sourceFiles(join(ROOT, 'src')).filter((f) => VALUE_IMPORT.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('when the ccxt source is built, then it imports ccxt dynamically, and only the factory reaches that module', () => {
    const ccxtSource = readFileSync(join(ROOT, 'src', 'market', 'ccxt-source.ts'), 'utf8');
    expect(ccxtSource).toMatch(/await import\('ccxt'\)/);
    const index = readFileSync(join(ROOT, 'src', 'market', 'index.ts'), 'utf8');
    expect(index).not.toMatch(/^import[^;]*ccxt-source/m);
    expect(index).toMatch(/await import\('\.\/ccxt-source\.js'\)/);
  });
});
