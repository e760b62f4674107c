import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromFloat16Bits, toFloat16Bits } from './float16';

describe('float16', () => {
  it('round-trips values half precision holds exactly', () => {
    for (const value of [0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 1.5, 1000.5]) assert.equal(fromFloat16Bits(toFloat16Bits(value)), value);
  });

  it('knows the bit patterns numpy uses', () => {
    assert.equal(toFloat16Bits(1), 0x3c00);
    assert.equal(toFloat16Bits(-2), 0xc000);
    assert.equal(toFloat16Bits(Infinity), 0x7c00);
    assert.equal(toFloat16Bits(1e6), 0x7c00);
    assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
    // 0.1 rounds to the nearest half, 0.0999755859375 (0x2e66), as numpy.float16(0.1) does.
    assert.equal(toFloat16Bits(0.1), 0x2e66);
  });
});
