import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import type { ServiceMetrics } from '../../metrics.js';

/**
 * How far each venue's clock is from ours. Freshness is judged by comparing our clock with
 * the venues' timestamps (a bar's close, a book's time), so an offset shifts every age by
 * that much. Offset = server time − the midpoint of our send and receive times; the round
 * trip bounds the error (half of it either way).
 */

export interface VenueClockStatus {
  venue: string;
  /** Venue clock minus ours, ms (positive: the venue is ahead); null before a measurement. */
  offsetMs: number | null;
  /** Round trip of the measuring request, ms. */
  roundTripMs: number | null;
  /** When the last successful measurement was taken (our clock), or null. */
  measuredAt: number | null;
  /** The last measurement's error, cleared by a success. */
  lastError: string | null;
}

export interface ClockSample {
  offsetMs: number;
  roundTripMs: number;
}

/** Offset of a server time read between `sentAt` and `receivedAt` on our clock. */
export function clockOffset(sentAt: number, serverTime: number, receivedAt: number): ClockSample {
  return { offsetMs: Math.round(serverTime - (sentAt + receivedAt) / 2), roundTripMs: receivedAt - sentAt };
}

export interface VenueClockMonitorOptions {
  venues: string[];
  serverTime: (venue: string) => Promise<number>;
  clock: Clock;
  logger: Logger;
  /** A venue whose |offset| exceeds this degrades /health/status. */
  toleranceMs: number;
  /** How often to measure (ms). */
  everyMs: number;
}

export interface ClockCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export class VenueClockMonitor {
  private readonly state = new Map<string, VenueClockStatus>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly o: VenueClockMonitorOptions) {
    for (const venue of o.venues) this.state.set(venue, { venue, offsetMs: null, roundTripMs: null, measuredAt: null, lastError: null });
  }

  /** Measures every venue once (in parallel); never throws. */
  async measure(): Promise<void> {
    await Promise.all(
      this.o.venues.map(async (venue) => {
        const prev = this.state.get(venue)!;
        const sentAt = this.o.clock();
        try {
          const serverTime = await this.o.serverTime(venue);
          const s = clockOffset(sentAt, serverTime, this.o.clock());
          this.state.set(venue, { venue, ...s, measuredAt: sentAt, lastError: null });
          if (Math.abs(s.offsetMs) > this.o.toleranceMs) {
            this.o.logger.warn({ venue, offsetMs: s.offsetMs, roundTripMs: s.roundTripMs, toleranceMs: this.o.toleranceMs }, 'venue clock offset beyond tolerance');
          }
        } catch (err) {
          this.state.set(venue, { ...prev, lastError: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
  }

  status(): VenueClockStatus[] {
    return [...this.state.values()];
  }

  /**
   * One check per venue: failing when the last measured offset is beyond tolerance. A
   * venue never measured (or only failing) does not fail it: its data is judged by the
   * poller's own checks, and a clock we cannot read says nothing about its offset.
   */
  checks(): ClockCheck[] {
    return this.status().map((s) => {
      const name = `venue-clock:${s.venue}`;
      if (s.offsetMs === null || Math.abs(s.offsetMs) <= this.o.toleranceMs) return { name, ok: true };
      return { name, ok: false, detail: `clock offset ${s.offsetMs} ms (round trip ${s.roundTripMs} ms) exceeds ${this.o.toleranceMs} ms` };
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      void this.measure().finally(() => {
        if (!this.running) return;
        this.timer = setTimeout(loop, this.o.everyMs);
        this.timer.unref();
      });
    };
    loop();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * The monitor for a source that talks to venues (null for sim and replay), with its gauge
 * `liqgate_venue_clock_offset_seconds{venue}`. Tolerance is one poll interval: an offset
 * under it cannot move a bar across the freshness limit by more than one poll.
 */
export function createVenueClockMonitor(
  source: { serverTime?(venue: string): Promise<number>; allVenues?(): string[] },
  deps: { clock: Clock; logger: Logger; pollIntervalMs: number; metrics: { gauge: ServiceMetrics['gauge'] } },
): VenueClockMonitor | null {
  if (!source.serverTime || !source.allVenues) return null;
  const serverTime = source.serverTime.bind(source);
  const monitor = new VenueClockMonitor({
    venues: source.allVenues(),
    serverTime,
    clock: deps.clock,
    logger: deps.logger,
    toleranceMs: deps.pollIntervalMs,
    everyMs: 60_000,
  });
  deps.metrics.gauge(
    'liqgate_venue_clock_offset_seconds',
    'Venue server clock minus ours at the last measurement (positive: venue ahead); absent before one',
    ['venue'],
    () => monitor.status().flatMap((s): [Record<string, string>, number][] => (s.offsetMs === null ? [] : [[{ venue: s.venue }, s.offsetMs / 1000]])),
  );
  return monitor;
}
