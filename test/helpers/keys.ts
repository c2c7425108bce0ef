/** API keys of every test app, one per scope. */
export const TEST_KEYS = {
  pretrade: 'test-pretrade-key-0001',
  read: 'test-read-key-000001',
  admin: 'test-admin-key-00001',
  all: 'test-all-scopes-0001',
  metrics: 'test-metrics-key-001',
} as const;

export const TEST_API_KEYS = `pretrader=${TEST_KEYS.pretrade}:pretrade,reader=${TEST_KEYS.read}:read,admin=${TEST_KEYS.admin}:admin,all=${TEST_KEYS.all}:pretrade+read+admin,scraper=${TEST_KEYS.metrics}:metrics`;

/**
 * The keys buildTestApp uses: TEST_API_KEYS with the pretrade and all-scopes keys acting
 * for every account (`@*`), since the gate reserves exposure per account and refuses an
 * account the key may not act for. TEST_API_KEYS stays without account lists: process tests
 * give it to older versions too, whose key parser has none.
 */
export const TEST_APP_API_KEYS = `pretrader=${TEST_KEYS.pretrade}:pretrade@*,reader=${TEST_KEYS.read}:read,admin=${TEST_KEYS.admin}:admin,all=${TEST_KEYS.all}:pretrade+read+admin@*,scraper=${TEST_KEYS.metrics}:metrics`;

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
