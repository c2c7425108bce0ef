import { unwatchFile, watchFile } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { parseApiKeys, type ApiKey } from './api-keys.js';

/** The keys file's format: one `id=key:scopes` per line, `#` comments and blank lines ignored. */
export function parseApiKeysFile(text: string): ReturnType<typeof parseApiKeys> {
  return parseApiKeys(
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('#'))
      .join(','),
  );
}

export interface KeysFileWatcher {
  /** Re-reads the file now (SIGHUP); true when the new keys are in force. */
  reload(): boolean;
  close(): void;
}

/**
 * Keeps the keys in force in step with API_KEYS_FILE (plus the fixed API_KEYS): the file
 * is polled (stat, every `intervalMs`; fs.watch misses in-place writes on bind mounts)
 * and re-read on demand. A file that cannot be read or parsed, or holds no key, changes
 * nothing: the previous keys stay in force and the problem is logged (an empty file
 * halfway through an in-place write must not lock every client out). Only key ids are logged.
 */
export function watchApiKeysFile(opts: {
  path: string;
  /** The API_KEYS value, combined with the file as at startup. */
  inlineSpec: string | undefined;
  intervalMs: number;
  readFile: (path: string) => string;
  apply: (keys: ApiKey[]) => void;
  logger: FastifyBaseLogger;
}): KeysFileWatcher {
  const log = opts.logger.child({ component: 'api-keys' });
  const reload = (): boolean => {
    let text: string;
    try {
      text = opts.readFile(opts.path);
    } catch (err) {
      log.error({ path: opts.path, err: { message: (err as Error).message } }, 'API keys file unreadable; previous keys stay in force');
      return false;
    }
    const inline = opts.inlineSpec ? parseApiKeys(opts.inlineSpec) : { ok: true as const, keys: [] };
    const file = parseApiKeysFile(text);
    const problems = [...(inline.ok ? [] : inline.errors), ...(file.ok ? [] : file.errors)];
    if (problems.length > 0 || !inline.ok || !file.ok) {
      log.error({ path: opts.path, problems }, 'API keys file invalid; previous keys stay in force');
      return false;
    }
    const keys = [...inline.keys, ...file.keys];
    if (file.keys.length === 0) {
      log.error({ path: opts.path }, 'API keys file holds no key; previous keys stay in force');
      return false;
    }
    opts.apply(keys);
    log.info({ keyIds: keys.map((k) => k.id) }, 'API keys reloaded');
    return true;
  };
  const onChange = () => void reload();
  watchFile(opts.path, { interval: opts.intervalMs, persistent: false }, onChange);
  return { reload, close: () => unwatchFile(opts.path, onChange) };
}
