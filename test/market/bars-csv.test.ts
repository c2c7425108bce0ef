import { describe, expect, it } from 'vitest';
import type { Bar } from '../../src/domain/market-data.js';
import { BARS_CSV_HEADER, BarsCsvError, formatBarsCsv, parseBarsCsv } from '../../src/market/bars-csv.js';

const HEADER = BARS_CSV_HEADER.join(',');
/** The format before the side-evidence columns existed (the calibration set's). */
const OLD_HEADER = 'timestamp,open,high,low,close,volume,open_interest_usd,funding_rate,liq_long_usd,liq_short_usd';

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

  it('when a file in the format before the side-evidence columns has empty volume and liquidations, then they are read as absent', () => {
    const text = `${OLD_HEADER}\n1767225600000,100,110,95,105,,1000000,0.0001,5000,\n`;
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
    ['a non-numeric price', `${OLD_HEADER}\n1767225600000,100,abc,95,105,,1,,,\n`, 'x.csv:2: column high is not a number: "abc"'],
    ['an empty required cell', `${OLD_HEADER}\n1767225600000,100,110,95,105,,,,,\n`, 'x.csv:2: column open_interest_usd is empty'],
    ['high below close', `${OLD_HEADER}\n1767225600000,100,101,95,105,,1,,,\n`, 'x.csv:2: high/low do not bound open and close'],
    [
      'timestamps out of order',
      `${OLD_HEADER}\n1767225900000,100,110,95,105,,1,,,\n1767225600000,100,110,95,105,,1,,,\n`,
      'x.csv:3: timestamp 1767225600000 is not after',
    ],
    ['a short row', `${OLD_HEADER}\n1767225600000,100,110\n`, 'x.csv:2: expected 10 columns, found 3'],
    ['an empty file', '', 'x.csv:1: missing header line'],
  ])('when the file has %s, then the error names the file and line', (_name, text, message) => {
    expect(() => parseBarsCsv(text, 'x.csv')).toThrow(BarsCsvError);
    expect(() => parseBarsCsv(text, 'x.csv')).toThrow(message);
  });

  it('when a bar carries taker buy and sell volume and the long/short ratio, then they are written in their columns and read back identical', () => {
    const bars = [
      buildBar({ volume: 12.5, fundingRate: 0.0001, takerBuyVolume: 7.25, takerSellVolume: 5.25, longShortRatio: 1.8734 }),
      buildBar({ ts: 1_767_225_900_000, open: 105, high: 106, low: 101, close: 102, volume: 0.1 + 0.2, takerBuyVolume: 0.1, takerSellVolume: 0.2, longShortRatio: 0.9 }),
      buildBar({ ts: 1_767_226_200_000, longShortRatio: 1.1 }),
    ];
    const text = formatBarsCsv(bars);
    expect(text.split('\n')[1]).toBe('1767225600000,100,110,95,105,12.5,1000000,0.0001,,,7.25,5.25,1.8734');
    const back = parseBarsCsv(text, 'x.csv');
    expect(back).toEqual(bars);
    expect(back[2]).not.toHaveProperty('takerBuyVolume');
  });

  it('when a kline export has taker buy volume and volume but no sell column, then the sell side is volume minus buy', () => {
    const text = 'timestamp,open,high,low,close,volume,open_interest_usd,taker_buy_volume\n1767225600000,100,110,95,105,10,1000000,6\n';
    expect(parseBarsCsv(text, 'x.csv')).toEqual([buildBar({ volume: 10, takerBuyVolume: 6, takerSellVolume: 4 })]);
  });

  it.each([
    ['a negative taker buy volume', ',,,-1,,', 'taker_buy_volume must not be negative'],
    ['a negative taker sell volume', ',,,,-1,', 'taker_sell_volume must not be negative'],
    ['a zero long/short ratio', ',,,,,0', 'long_short_ratio must be positive'],
  ])('when a bar has %s, then the error names the line and the column', (_name, tail, message) => {
    const text = `${HEADER}\n1767225600000,100,110,95,105,,1000000,${tail}\n`;
    expect(() => parseBarsCsv(text, 'x.csv')).toThrow(`x.csv:2: ${message}`);
  });
});
