import { isIP } from 'node:net';

/**
 * Whether an IP address is a public unicast address the server may fetch from on a client's behalf (Client ID
 * Metadata Documents, CIMD-06: special-use addresses of RFC 6890 are refused). Pure: the caller resolves the name and
 * connects to the address this approved, so a second DNS answer cannot move the connection elsewhere (rebinding).
 * IPv4 inside IPv6 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is
 * judged by the IPv4 address it carries.
 */

export type AddressCategory =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'carrier-grade NAT'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'not an IP address';

/** IPv4 special-use blocks (RFC 6890, RFC 6598, RFC 5737, RFC 2544, RFC 5771, RFC 1112), as [first octets, prefix, category]. */
const IPV4_BLOCKS: readonly [number, number, AddressCategory][] = [
  [ip4(0, 0, 0, 0), 8, 'unspecified'],
  [ip4(10, 0, 0, 0), 8, 'private'],
  [ip4(100, 64, 0, 0), 10, 'carrier-grade NAT'],
  [ip4(127, 0, 0, 0), 8, 'loopback'],
  [ip4(169, 254, 0, 0), 16, 'link-local'],
  [ip4(172, 16, 0, 0), 12, 'private'],
  [ip4(192, 0, 0, 0), 24, 'reserved'],
  [ip4(192, 0, 2, 0), 24, 'documentation'],
  [ip4(192, 88, 99, 0), 24, 'reserved'],
  [ip4(192, 168, 0, 0), 16, 'private'],
  [ip4(198, 18, 0, 0), 15, 'benchmarking'],
  [ip4(198, 51, 100, 0), 24, 'documentation'],
  [ip4(203, 0, 113, 0), 24, 'documentation'],
  [ip4(224, 0, 0, 0), 4, 'multicast'],
  [ip4(240, 0, 0, 0), 4, 'reserved'],
];

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function parseIpv4(address: string): number {
  const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
  return ip4(a, b, c, d);
}

function ipv4Category(value: number): AddressCategory {
  for (const [base, prefix, category] of IPV4_BLOCKS) {
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    if (((value & mask) >>> 0) === base) return category;
  }
  return 'public';
}

/** The eight 16-bit groups of an IPv6 address (an embedded dotted quad becomes the last two). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]!);
    text = `${text.slice(0, -dotted[1]!.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => parseInt(group, 16));
}

function ipv6Category(address: string): AddressCategory {
  const g = ipv6Groups(address);
  const embeddedV4 = ((g[6]! << 16) | g[7]!) >>> 0;
  const firstSix = g.slice(0, 6);
  if (g.every((group) => group === 0)) return 'unspecified';
  if (firstSix.every((group) => group === 0) && g[6] === 0 && g[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): what they reach is the IPv4 address.
  if (g.slice(0, 5).every((group) => group === 0) && (g[5] === 0xffff || g[5] === 0)) return ipv4Category(embeddedV4);
  // 64:ff9b::/96 (NAT64, RFC 6052) carries the IPv4 address last; 2002::/16 (6to4) in groups 1 and 2.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((group) => group === 0)) return ipv4Category(embeddedV4);
  if (g[0] === 0x2002) return ipv4Category(((g[1]! << 16) | g[2]!) >>> 0);
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'unique-local';
  if ((first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0) return 'link-local';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  if (first === 0x2001 && g[1] === 0x0db8) return 'documentation';
  // 2001::/23 (IETF protocol assignments: Teredo, ORCHID, …), 100::/64 (discard), and nothing outside 2000::/3 is global unicast.
  if (first === 0x2001 && g[1]! < 0x200) return 'reserved';
  if ((first & 0xe000) !== 0x2000) return 'reserved';
  return 'public';
}

/** The category of an IP address (IPv4 or IPv6 text, brackets allowed). */
export function addressCategory(address: string): AddressCategory {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const version = isIP(bare);
  if (version === 4) return ipv4Category(parseIpv4(bare));
  if (version === 6) return ipv6Category(bare);
  return 'not an IP address';
}
