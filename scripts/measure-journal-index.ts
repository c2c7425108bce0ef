/**
 * What the exposure journal's in-memory index of journaled fills (fillId -> body hash)
 * costs per fill: journals N fills (ids like a client's, SHA-256 hex hashes) through the
 * real journal in groups of 1,000 and compares the heap before and after.
 *
 *   node --expose-gc --import tsx scripts/measure-journal-index.ts [--fills 50000]
 *
 * Writes to a temporary directory and removes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAuditJournal } from '../src/stores/audit-journal.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { fills: { type: 'string', default: '50000' } } });
  const n = Number(values.fills);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const dir = mkdtempSync(join(tmpdir(), 'liq-gate-journal-index-'));
  try {
    const journal = createAuditJournal({ dir, instanceId: 'measure', orphanMs: 60_000, indexTag: (json) => (JSON.parse(json) as { hash: string }).hash });
    await journal.open();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let g = 0; g < n; g += 1_000) {
      const group = Array.from({ length: Math.min(1_000, n - g) }, (_, k) => {
        const i = g + k;
        return { decisionId: `fill:exec-${String(i).padStart(12, '0')}-BTCUSDT`, json: JSON.stringify({ hash: i.toString(16).padStart(64, '0'), body: 'x'.repeat(1_500) }) };
      });
      await journal.append(group);
    }
    gc();
    const perFill = (process.memoryUsage().heapUsed - before) / n;
    console.log(`${n} journaled fills indexed: ${Math.round(perFill)} bytes of heap each`);
    await journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
