/**
 * Strict IP address parsing for the security-operations tools: IPv4 in dotted decimal only (four parts, 0 to 255, no
 * leading zeros, no octal or hex, no shorthand), IPv6 per RFC 4291 text forms (with `::` and an embedded IPv4 tail,
 * no zone id), canonical text per RFC 5952, CIDR membership, and the special-purpose ranges (RFC 6890 and the IANA
 * registries) that must never be blocked at the edge. Pure: no SDK, no environment, no clock.
 */

/** A parsed address: its version and its bytes (4 or 16). */
export interface ParsedIp {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
}

/** A parsed CIDR block. */
export interface ParsedCidr {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

const V4_PART = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
/** Longest text accepted before parsing (an IPv6 address with an IPv4 tail is at most 45 characters). */
export const MAX_IP_TEXT = 45;

/** Parses dotted-decimal IPv4 strictly; undefined for anything else. */
export function parseIpv4(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length > 15) return undefined;
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!V4_PART.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Parses IPv6 text strictly (RFC 4291 section 2.2, no zone id); undefined for anything else. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length < 2 || text.length > MAX_IP_TEXT) return undefined;
  if (text.indexOf('::') !== text.lastIndexOf('::')) return undefined;
  let tail: Uint8Array | undefined;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (!tail) return undefined;
    body = text.slice(0, lastColon + 1);
    // "…:1.2.3.4": keep the colon that ends the hex part; "::1.2.3.4" keeps "::".
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const groupsNeeded = tail ? 6 : 8;
  const [headText, tailText] = body.includes('::') ? body.split('::') : [body, undefined];
  const split = (s: string): string[] | undefined => {
    if (s === '') return [];
    const g = s.split(':');
    return g.every((x) => HEX_GROUP.test(x)) ? g : undefined;
  };
  const head = split(headText);
  const rest = tailText === undefined ? [] : split(tailText);
  if (!head || !rest) return undefined;
  const present = head.length + rest.length;
  if (tailText === undefined) {
    if (present !== groupsNeeded) return undefined;
  } else if (present > groupsNeeded - 1) {
    // "::" stands for at least one group of zeros.
    return undefined;
  }
  const groups = [...head, ...Array<string>(groupsNeeded - present).fill('0'), ...rest];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

/** Parses an IPv4 or IPv6 address strictly; undefined for anything else (CIDR notation included). */
export function parseIp(text: unknown): ParsedIp | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_IP_TEXT) return undefined;
  if (text.includes('.') && !text.includes(':')) {
    const b = parseIpv4(text);
    return b ? { version: 4, bytes: b } : undefined;
  }
  const b6 = parseIpv6(text);
  return b6 ? { version: 6, bytes: b6 } : undefined;
}

/** Parses `<address>/<prefix>` strictly (the address must have no bits set beyond the prefix). */
export function parseCidr(text: unknown): ParsedCidr | undefined {
  if (typeof text !== 'string' || text.length > MAX_IP_TEXT + 4) return undefined;
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > ip.bytes.length * 8) return undefined;
  for (let bit = prefix; bit < ip.bytes.length * 8; bit++) {
    if (ip.bytes[bit >> 3] & (0x80 >> (bit & 7))) return undefined;
  }
  return { version: ip.version, bytes: ip.bytes, prefix };
}

/** Whether an address lies in a block (same version only: an IPv4-mapped IPv6 address is not its IPv4 address). */
export function cidrContains(block: ParsedCidr, ip: ParsedIp): boolean {
  if (block.version !== ip.version) return false;
  for (let bit = 0; bit < block.prefix; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((block.bytes[bit >> 3] & mask) !== (ip.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}

/** The canonical text of an address: dotted decimal, or RFC 5952 (lower case, longest zero run as `::`). */
export function formatIp(ip: ParsedIp): string {
  if (ip.version === 4) return Array.from(ip.bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip.bytes[i] << 8) | ip.bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  // RFC 5952 4.2.2: a single zero group is not shortened.
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical `/32` or `/128` block of one address, as WAF IP sets hold it. */
export function hostCidr(ip: ParsedIp): string {
  return `${formatIp(ip)}/${ip.version === 4 ? 32 : 128}`;
}

/** The canonical text of a CIDR block. */
export function formatCidr(block: ParsedCidr): string {
  return `${formatIp({ version: block.version, bytes: block.bytes })}/${block.prefix}`;
}

/**
 * Special-purpose IPv4 ranges (RFC 6890 and the IANA IPv4 special-purpose registry) plus multicast and the reserved
 * class E: private, shared (CGNAT), loopback, link-local, documentation, benchmarking, relay, broadcast.
 */
export const IPV4_SPECIAL_RANGES: readonly string[] = Object.freeze([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.31.196.0/24',
  '192.52.193.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '192.175.48.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
]);

/**
 * IPv6 addresses that may be blocked lie in global unicast (`2000::/3`); these special-purpose blocks inside it are
 * excluded too (IANA IPv6 special-purpose registry): IETF protocol assignments (Teredo, benchmarking, ORCHID),
 * documentation, 6to4, and the AS112 and relay blocks.
 */
export const IPV6_SPECIAL_RANGES: readonly string[] = Object.freeze(['2001::/23', '2001:db8::/32', '2002::/16', '2620:4f:8000::/48', '3fff::/20']);

const V4_SPECIAL = IPV4_SPECIAL_RANGES.map((c) => parseCidr(c)!);
const V6_SPECIAL = IPV6_SPECIAL_RANGES.map((c) => parseCidr(c)!);
const V6_GLOBAL_UNICAST = parseCidr('2000::/3')!;

/**
 * Whether an address is publicly routable: IPv4 outside every special-purpose range; IPv6 inside global unicast and
 * outside its special-purpose blocks (so loopback, unspecified, IPv4-mapped, NAT64, unique-local, link-local and
 * multicast addresses are all not public).
 */
export function isPublicIp(ip: ParsedIp): boolean {
  if (ip.version === 4) return !V4_SPECIAL.some((r) => cidrContains(r, ip));
  return cidrContains(V6_GLOBAL_UNICAST, ip) && !V6_SPECIAL.some((r) => cidrContains(r, ip));
}
