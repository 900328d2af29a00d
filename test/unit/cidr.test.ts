import { describe, expect, it } from 'vitest';
import { nthAddress, overlaps, parseAddress, parseCidr } from '../../src/net/cidr.js';

describe('cidr', () => {
  it('finds containment in both directions', () => {
    const big = parseCidr('10.96.0.0/12')!;
    const small = parseCidr('10.100.0.0/16')!;
    expect(overlaps(big, small)).toBe(true);
    expect(overlaps(small, big)).toBe(true);
    expect(overlaps(parseCidr('10.244.0.0/16')!, big)).toBe(false);
  });
  it('compares IPv6 ranges', () => {
    expect(overlaps(parseCidr('fd00:1::/48')!, parseCidr('fd00:1:0:5::/64')!)).toBe(true);
    expect(overlaps(parseCidr('fd00:1::/48')!, parseCidr('fd00:2::/64')!)).toBe(false);
    expect(overlaps(parseCidr('10.0.0.0/8')!, parseCidr('::/0')!)).toBe(false);
  });
  it('computes the service and DNS addresses', () => {
    expect(nthAddress(parseCidr('10.96.0.0/12')!, 1)).toBe('10.96.0.1');
    expect(nthAddress(parseCidr('10.96.0.0/12')!, 10)).toBe('10.96.0.10');
    expect(nthAddress(parseCidr('fd00:10:96::/108')!, 10)).toBe('fd00:10:96::a');
  });
  it('rejects malformed ranges and addresses', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/129', '10.0.0.0', 'abc', '10.0.0.0/8/8']) expect(parseCidr(bad)).toBeUndefined();
    expect(parseAddress('10.0.0.256')).toBeUndefined();
    // Leading zeros: ip-address takes them, Go's net.ParseIP (every component) does not.
    expect(parseAddress('010.1.1.1')).toBeUndefined();
    expect(parseAddress('fd00::1')?.family).toBe(6);
  });
  it('gives each address its number, agreeing with the ranges that contain it', () => {
    expect(parseAddress('10.0.1.2')).toEqual({ family: 4, value: 167772418n, canonical: '10.0.1.2' });
    expect(parseAddress('255.255.255.255')?.value).toBe(2n ** 32n - 1n);
    expect(parseAddress('fd00:0::1')).toEqual({ family: 6, value: (0xfd00n << 112n) + 1n, canonical: 'fd00::1' });
    const range = parseCidr('10.0.1.0/24')!;
    expect(parseAddress('10.0.1.0')?.value).toBe(range.start);
    expect(parseAddress('10.0.1.255')?.value).toBe(range.end);
    // Answers are read-only: callers (one validation memoises them) share them.
    expect(Object.isFrozen(parseAddress('10.0.1.2'))).toBe(true);
  });
});
