import type { ConfigIo } from '../../src/config/index.js';

/** Config I/O for tests: files from a map (others are ENOENT), a fixed demo key and hostname. */
export function io(files: Record<string, string> = {}): ConfigIo {
  return {
    readFile: (p) => {
      const f = files[p];
      if (f === undefined) throw new Error('ENOENT: no such file');
      return f;
    },
    randomKey: () => 'demo-generated-key-123',
    hostname: () => 'host-1',
  };
}
