import type { VenueProfile } from '../venue-profile.js';
import { binanceusdm } from './binanceusdm.js';
import { bybit } from './bybit.js';
import { okx } from './okx.js';

/** Every venue the ccxt source serves, one profile each. */
export const VENUE_PROFILES: Readonly<Record<string, VenueProfile>> = Object.fromEntries([binanceusdm, bybit, okx].map((p) => [p.id, p]));

/** The known venue ids, derived from the profiles. */
export const CCXT_VENUES: readonly string[] = Object.keys(VENUE_PROFILES);

export function venueProfile(id: string): VenueProfile | undefined {
  return Object.hasOwn(VENUE_PROFILES, id) ? VENUE_PROFILES[id] : undefined;
}
