import { describe, expect, it } from 'vitest';
import { accountsOf, mayActFor, parseApiKeys } from '../../src/auth/api-keys.js';
import { loadConfig } from '../../src/config/index.js';
import { limitsFor } from '../../src/domain/exposure/policy.js';
import { io } from '../helpers/config-io.js';

describe('accounts of API keys', () => {
  it('when a key lists accounts after "@", then it acts for those, the first being its default', () => {
    const r = parseApiKeys('engine=k-engine-0001:pretrade+read@acct-a|acct-b,desk=k-desk-00001:read');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.keys[0]).toMatchObject({ id: 'engine', scopes: ['pretrade', 'read'], accounts: ['acct-a', 'acct-b'] });
    expect(accountsOf(r.keys[0]!)).toEqual({ default: 'acct-a', allowed: ['acct-a', 'acct-b'] });
    // Without a list: the account named like the key.
    expect(accountsOf(r.keys[1]!)).toEqual({ default: 'desk', allowed: ['desk'] });
    expect(mayActFor(['*'], 'anyone')).toBe(true);
    expect(mayActFor(['acct-a'], 'acct-b')).toBe(false);
  });

  it('when an account list is empty or malformed, then the entry is refused with its reason', () => {
    const r = parseApiKeys('engine=k-engine-0001:pretrade@,other=k-other-0001:read@bad account');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toContain('entry 1 (engine): accounts after "@"');
  });
});

describe('exposure policy', () => {
  it('when the policy says nothing about exposure, then the documented defaults apply', () => {
    const r = loadConfig({}, io());
    expect(r.ok && r.config.exposure).toMatchObject({
      limits: { maxPositionNotionalUsd: 2_000_000, maxGrossNotionalUsd: 5_000_000, maxNetNotionalUsd: 3_000_000, maxOpenReservations: 200, maxLossUsd: null },
      scaleWithTimeOfDay: false,
      scaleWithPortfolioMultiplier: false,
      reservationTtlMs: 86_400_000,
    });
  });

  it('when the exposure section has unknown or invalid fields, then every problem is named', () => {
    const r = loadConfig({ POLICY_JSON: JSON.stringify({ exposure: { limits: { maxGrossNotionalUsd: -1 }, accounts: { a: { nope: 1 } }, extra: true } }) }, io());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('policy exposure.limits.maxGrossNotionalUsd'),
        expect.stringContaining('unknown key(s) "nope"'),
        expect.stringContaining('unknown key(s) "extra"'),
      ]),
    );
  });

  it("when an account overrides one limit, then its other limits stay the policy's, not the schema's defaults", () => {
    const r = loadConfig({ POLICY_JSON: JSON.stringify({ exposure: { limits: { maxNetNotionalUsd: 123 }, accounts: { a: { maxGrossNotionalUsd: 456 } } } }) }, io());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.exposure.accounts).toEqual({ a: { maxGrossNotionalUsd: 456 } });
    expect(limitsFor(r.config.exposure, 'a')).toMatchObject({ maxGrossNotionalUsd: 456, maxNetNotionalUsd: 123, maxPositionNotionalUsd: 2_000_000 });
  });

  describe('is part of the policyVersion every decision carries', () => {
    const versionOf = (exposure?: Record<string, unknown>) => {
      const r = loadConfig(exposure === undefined ? {} : { POLICY_JSON: JSON.stringify({ exposure }) }, io());
      if (!r.ok) throw new Error(r.errors.join('; '));
      return r.config.policy.version;
    };

    it('when the exposure policy is unchanged (or only spelled out at its defaults), then the version is the same', () => {
      expect(versionOf()).toBe(versionOf());
      expect(versionOf({ limits: { maxGrossNotionalUsd: 1_000_000 } })).toBe(versionOf({ limits: { maxGrossNotionalUsd: 1_000_000 } }));
      // What the policy means is hashed, not how it is written.
      expect(versionOf({ limits: { maxOpenReservations: 200 }, requireConfirmedPositions: false })).toBe(versionOf());
    });

    it.each([
      ['an account limit', { limits: { maxGrossNotionalUsd: 1_000_000 } }],
      ['one account override', { accounts: { 'acct-a': { maxNetNotionalUsd: 10_000 } } }],
      ['a per-symbol limit', { limits: { maxPositionNotionalUsdBySymbol: { BTCUSDT: 100_000 } } }],
      ['a trading limit', { limits: { maxApprovedOrders: 10 } }],
      ['the trading window', { limits: { approvalWindowMs: 10_000 } }],
      ['the time-of-day scaling switch', { scaleWithTimeOfDay: true }],
      ['the portfolio scaling switch', { scaleWithPortfolioMultiplier: true }],
      ['the confirmed-position requirement', { requireConfirmedPositions: true }],
      ['the reservation TTL', { reservationTtlMs: 60_000 }],
    ])('when %s changes, then the version changes', (_what, exposure) => {
      expect(versionOf(exposure)).not.toBe(versionOf());
    });
  });
});
