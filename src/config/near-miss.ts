/**
 * Environment variables that look like a mistyped one of ours (`REDIS_ULR`, `redis_url`,
 * `PREFIX_REDIS_KEY`, `REDIS_PREFIX`): the service would silently run on a default, so
 * they are reported (a warning; production refuses to start, see index.ts).
 */

/** Variables that platforms inject for every service they link (never typed by a person). */
const PLATFORM_INJECTED: readonly RegExp[] = [
  /^KUBERNETES_/,
  // Kubernetes service links: FOO_SERVICE_HOST, FOO_SERVICE_PORT, FOO_SERVICE_PORT_HTTP.
  /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$/,
  // Docker-link style, also set by Kubernetes: FOO_PORT, FOO_PORT_6379_TCP(_ADDR|_PORT|_PROTO).
  /_PORT(_\d+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?)?$/,
  /^npm_/,
];

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Typos tolerated per name length: short names get fewer (HOST vs HOME is not a typo). */
function maxTypos(name: string): number {
  if (name.length <= 5) return 1;
  if (name.length <= 10) return 2;
  return 3;
}

const words = (name: string): string[] => name.split('_').filter((w) => w.length > 0);

/** Which of our variables `name` looks like a mistake for, or null. */
function nearMissOf(name: string, ours: readonly string[]): string | null {
  const upper = name.toUpperCase();
  const sortedWords = words(upper).sort().join('_');
  for (const our of ours) {
    if (upper === our) return our; // another case: REDIS_url
    if (editDistance(upper, our) <= maxTypos(our)) return our;
    if (sortedWords === words(our).sort().join('_')) return our; // words in another order
    // A word dropped (REDIS_PREFIX for REDIS_KEY_PREFIX): two or more words, all of ours.
    const theirs = words(upper);
    if (theirs.length >= 2 && theirs.length < words(our).length && theirs.every((w) => words(our).includes(w))) return our;
  }
  return null;
}

/**
 * Every variable of `env` that is not ours but looks like one of `ours`, as messages
 * naming both. Platform-injected variables are never reported.
 */
export function nearMissVariables(env: Record<string, string | undefined>, ours: readonly string[]): string[] {
  const known = new Set(ours);
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || PLATFORM_INJECTED.some((re) => re.test(name))) continue;
    const our = nearMissOf(name, ours);
    if (our !== null) out.push(`${name}: not a variable of this service; did you mean ${our}?`);
  }
  return out;
}
