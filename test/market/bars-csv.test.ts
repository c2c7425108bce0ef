import { describe, expect, it } from 'vitest';
import type { Bar } from '../../src/domain/market-data.js';
import { BARS_CSV_HEADER, BarsCsvError, formatBarsCsv, parseBarsCsv } from '../../src/market/bars-csv.js';

const HEADER = BARS_CSV_HEADER.join(',');

function buildBar(overrides: Partial<Bar> = {}): Bar {
  return { ts: 1_767_225_600_000, open: 100, high: 110, low: 95, close: 105, openInterestUsd: 1_000_000, ...overrides };
}

describe('bars CSV', () => {
  it('when bars are written and read back, then every field survives, and absent optionals stay absent', () => {
    const bars = [
      buildBar({ volume: 12.5, fundingRate: 0.0001 }),
      buildBar({ ts: 1_767_225_900_000, open: 105, high: 106, low: 101, close: 102, openInterestUsd: 990_000 }),
    ];
    const text = formatBarsCsv(bars);
    expect(text.split('\n')[0]).toBe(HEADER);
    expect(parseBarsCsv(text, 'x.csv')).toEqual(bars);
  });

  it('when the file has the full column set with empty volume and liquidations, then they are read as absent', () => {
    const text = `${HEADER}\n1767225600000,100,110,95,105,,1000000,0.0001,5000,\n`;
    const [bar] = parseBarsCsv(text, 'x.csv');
    expect(bar).toEqual(buildBar({ fundingRate: 0.0001 }));
    expect(bar).not.toHaveProperty('volume');
  });

  it('when optional columns are absent and the order differs, then columns are found by header name', () => {
    const text = 'close,open_interest_usd,timestamp,open,high,low\r\n105,1000000,1767225600000,100,110,95\r\n';
    expect(parseBarsCsv(text, 'x.csv')).toEqual([buildBar()]);
  });

  it.each([
    ['a missing required column', 'timestamp,open,high,low,close\n1,1,1,1,1\n', 'x.csv:1: header lacks column(s) open_interest_usd'],
    ['a non-numeric price', `${HEADER}\n1767225600000,100,abc,95,105,,1,,,\n`, 'x.csv:2: column high is not a number: "abc"'],
    ['an empty required cell', `${HEADER}\n1767225600000,100,110,95,105,,,,,\n`, 'x.csv:2: column open_interest_usd is empty'],
    ['high below close', `${HEADER}\n1767225600000,100,101,95,105,,1,,,\n`, 'x.csv:2: high/low do not bound open and close'],
    [
      'timestamps out of order',
      `${HEADER}\n1767225900000,100,110,95,105,,1,,,\n1767225600000,100,110,95,105,,1,,,\n`,
      'x.csv:3: timestamp 1767225600000 is not after',
    ],
    ['a short row', `${HEADER}\n1767225600000,100,110\n`, 'x.csv:2: expected 10 columns, found 3'],
    ['an empty file', '', 'x.csv:1: missing header line'],
  ])('when the file has %s, then the error names the file and line', (_name, text, message) => {
    expect(() => parseBarsCsv(text, 'x.csv')).toThrow(BarsCsvError);
    expect(() => parseBarsCsv(text, 'x.csv')).toThrow(message);
  });
});
