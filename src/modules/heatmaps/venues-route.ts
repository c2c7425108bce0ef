import { z } from 'zod';
import { ErrorBodySchema } from '../../http/errors.js';
import type { AppInstance } from '../module.js';
import type { VenueClockMonitor } from './venue-clock.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const VenuesResponseSchema = z
  .object({
    clockToleranceMs: z.number().int().describe('An offset beyond this degrades /health/status (check venue-clock:<venue>)'),
    venues: z.array(
      z.object({
        venue: z.string(),
        clockOffsetMs: z.number().int().nullable().describe('Venue server time minus ours (positive: venue ahead); null before a measurement'),
        roundTripMs: z.number().nullable().describe('Round trip of the measuring request; the offset is exact to within half of it'),
        measuredAt: z.string().nullable().describe('When the offset was last measured'),
        lastError: z.string().nullable().describe('Why the last measurement failed, if it did'),
      }),
    ),
  })
  .describe('Per-venue status of the market source (empty for sources that call no venue)');

export type VenuesResponse = z.infer<typeof VenuesResponseSchema>;

export function venuesStatus(monitor: VenueClockMonitor | null, toleranceMs: number): VenuesResponse {
  return {
    clockToleranceMs: toleranceMs,
    venues: (monitor?.status() ?? []).map((s) => ({
      venue: s.venue,
      clockOffsetMs: s.offsetMs,
      roundTripMs: s.roundTripMs,
      measuredAt: iso(s.measuredAt),
      lastError: s.lastError,
    })),
  };
}

export function registerVenuesRoute(app: AppInstance, status: () => VenuesResponse): void {
  app.get(
    '/venues',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['heatmaps'],
        operationId: 'listVenues',
        summary: 'Per-venue clock offset against the venue servers',
        response: { 200: VenuesResponseSchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
      },
    },
    async () => status(),
  );
}
