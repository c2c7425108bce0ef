import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditJournal, type AuditJournal } from '../../src/stores/audit-journal.js';

describe('audit journal: torn lines', () => {
  let dir: string | null = null;
  let journal: AuditJournal | null = null;
  afterEach(async () => {
    await journal?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
    journal = null;
  });

  function open(): { dir: string; journal: AuditJournal } {
    dir = mkdtempSync(join(tmpdir(), 'liqgate-journal-'));
    journal = createAuditJournal({ dir, instanceId: 'r1', orphanMs: 60_000 });
    return { dir, journal };
  }

  async function replayable(j: AuditJournal): Promise<string[]> {
    await j.seal();
    const segments = await j.claimReplayable(Date.now());
    return (await Promise.all(segments.map((s) => j.read(s)))).flat().map((e) => e.decisionId);
  }

  it('when an append failed after a short write (a torn line left behind) and a later append succeeds, then that later record is still replayed and readable by id', async () => {
    const { dir, journal: j } = open();
    await j.append([{ decisionId: 'a', json: '{"n":1}' }]);
    // What a write that failed half-way (ENOSPC) leaves: the group was refused, its bytes stay.
    appendFileSync(join(dir, 'r1.current.jsonl'), 'b\t{"n":');
    await j.append([{ decisionId: 'c', json: '{"n":3}' }]);

    expect(await j.get('a')).toBe('{"n":1}');
    expect(await j.get('c')).toBe('{"n":3}');
    expect(await replayable(j)).toEqual(['a', 'c']);
  });

  it('when a segment ends in a torn line (a crash mid-write), then the whole lines before it are replayed and the torn one is not', async () => {
    const { dir, journal: j } = open();
    await j.append([{ decisionId: 'a', json: '{"n":1}' }]);
    appendFileSync(join(dir, 'r1.current.jsonl'), 'b\t{"n":2}');
    expect(await replayable(j)).toEqual(['a']);
  });
});
