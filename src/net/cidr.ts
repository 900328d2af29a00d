/** CIDR facts kbuild needs, on top of ip-cidr / ip-address (no address math by hand). */
import IPCIDR from 'ip-cidr';
import { isIP } from 'node:net';
import { Address4, Address6 } from 'ip-address';

export type Family = 4 | 6;

export interface Cidr {
  /** As written by the user. */
  text: string;
  family: Family;
  prefix: number;
  start: bigint;
  end: bigint;
}

export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  if (!/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(trimmed) || !IPCIDR.isValidCIDR(trimmed)) return undefined;
  const cidr = new IPCIDR(trimmed);
  const family: Family = cidr.address instanceof Address4 ? 4 : 6;
  const prefix = Number(trimmed.split('/')[1]);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return {
    text: trimmed,
    family,
    prefix,
    start: cidr.start<bigint>({ type: 'bigInteger' }),
    end: cidr.end<bigint>({ type: 'bigInteger' }),
  };
}

/** Overlap in either direction, containment included. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

export function hostBits(cidr: Cidr): number {
  return (cidr.family === 4 ? 32 : 128) - cidr.prefix;
}

export interface ParsedAddress {
  family: Family;
  value: bigint;
  canonical: string;
}

/** An IPv4 or IPv6 address, as Go's net.ParseIP accepts it; undefined for anything else. Read-only, so callers may share it. */
export function parseAddress(text: string): Readonly<ParsedAddress> | undefined {
  const parsed = parseAddressText(text);
  return parsed && Object.freeze(parsed);
}

function parseAddressText(text: string): ParsedAddress | undefined {
  const trimmed = text.trim();
  // net.isIP as the gate: ip-address also accepts forms Go's net.ParseIP (and so every component) rejects, e.g. 010.1.1.1.
  const family = isIP(trimmed);
  if (family === 4) {
    const a = new Address4(trimmed);
    return { family: 4, value: asNumber(a), canonical: a.correctForm() };
  }
  if (family === 6 && !trimmed.includes('%')) {
    const a = new Address6(trimmed);
    return { family: 6, value: asNumber(a), canonical: a.correctForm() };
  }
  return undefined;
}

/** An address as a native bigint, from ip-address's own big integer (10× cheaper than a one-address ip-cidr range). */
function asNumber(address: Address4 | Address6): bigint {
  // jsbn's BigInteger ships without types; its decimal string is all we need.
  const big = address.bigInteger() as unknown as { toString(radix: number): string };
  return BigInt(big.toString(10));
}

export function isIpAddress(text: string): boolean {
  return parseAddress(text) !== undefined;
}

export function containsAddress(cidr: Cidr, address: { family: Family; value: bigint }): boolean {
  return cidr.family === address.family && cidr.start <= address.value && address.value <= cidr.end;
}

/** The n-th address of a range (n = 1 gives the kubernetes Service IP, n = 10 the DNS IP). */
export function nthAddress(cidr: Cidr, n: number): string {
  const [address] = new IPCIDR(cidr.text).toArray({ from: n, limit: 1 });
  if (address === undefined) throw new RangeError(`${cidr.text} has no address #${n}`);
  return parseAddress(address)!.canonical;
}

/** The index-th (0-based) /prefix block of a range, e.g. block 2 of 10.244.0.0/16 at /24 is 10.244.2.0/24. */
export function nthBlock(cidr: Cidr, prefix: number, index: number): string {
  const blockBits = BigInt((cidr.family === 4 ? 32 : 128) - prefix);
  const [address] = new IPCIDR(cidr.text).toArray({ from: BigInt(index) << blockBits, limit: 1 });
  if (address === undefined || prefix < cidr.prefix) throw new RangeError(`${cidr.text} has no /${prefix} block #${index}`);
  return `${parseAddress(address)!.canonical}/${prefix}`;
}

/** Splits "v4cidr,v6cidr" (dual-stack) into its parts. */
export function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim());
}
