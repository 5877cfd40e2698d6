// Which addresses a server may *report* for Marquee to monitor (Jellyfin's LocalAddress, Plex
// connections from plex.tv). A reported address receives the access token, so a server (or whoever
// answers in its name) must not be able to point Marquee at link-local space, where cloud metadata
// services live (169.254.169.254, fd00:ec2::254). An address the user typed is always their choice.
//
// Hosts are compared after WHATWG URL normalisation, so every spelling of an IP literal counts:
// 0xa9fea9fe, 2852039166, 0251.0376.0251.0376, 169.254.169.254. (trailing dot), [::ffff:a9fe:a9fe]
// (IPv4-mapped), [::a9fe:a9fe] (IPv4-compatible), [64:ff9b::a9fe:a9fe] (NAT64), fe80::1%eth0.
// Names that merely *resolve* to such an address are not caught here (that would need DNS).

export type ReportedAddressClass = 'ordinary' | 'link-local' | 'metadata' | 'invalid';

/** Cloud metadata endpoints outside 169.254.0.0/16 and fe80::/10. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', '[fd00:ec2::254]']);

/** The host as a URL would serialise it (IPv6 in brackets), or null if it is not a valid host. */
export function canonicalHost(host: string): string | null {
  let h = host.trim().toLowerCase();
  if (h === '') return null;
  const bracketed = h.startsWith('[') && h.endsWith(']');
  if (bracketed) h = h.slice(1, -1);
  if (h.includes(':')) {
    h = h.replace(/%.*$/, ''); // zone id (fe80::1%eth0): URLs cannot carry it
    try {
      return new URL(`http://[${h}]/`).hostname;
    } catch {
      return null;
    }
  }
  if (bracketed) return null;
  try {
    const u = new URL(`http://${h}/`);
    return u.hostname.replace(/\.$/, '') || null;
  } catch {
    return null;
  }
}

function ipv4Octets(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/** Eight 16-bit groups of a canonical (URL-serialised, hex-only) IPv6 address, or null. */
function ipv6Groups(bracketed: string): number[] | null {
  if (!bracketed.startsWith('[') || !bracketed.endsWith(']')) return null;
  const text = bracketed.slice(1, -1);
  const [head = '', tail, ...rest] = text.split('::');
  if (rest.length > 0) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64), if any. */
function embeddedIpv4(groups: number[]): number[] | null {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const v4 = [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff];
  const zeroTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroTo(5) && g5 === 0xffff) return v4; // ::ffff:a.b.c.d
  if (zeroTo(6) && (g6 !== 0 || g7 > 1)) return v4; // ::a.b.c.d (deprecated), not :: or ::1
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4; // 64:ff9b::/96
  return null;
}

const isLinkLocalV4 = (o: number[]) => o[0] === 169 && o[1] === 254;

/** Classifies a host name or IP literal (any spelling, brackets optional). */
export function classifyHost(host: string): ReportedAddressClass {
  const canonical = canonicalHost(host);
  if (canonical === null) return 'invalid';
  if (METADATA_HOSTS.has(canonical)) return 'metadata';
  const v4 = ipv4Octets(canonical);
  if (v4) return isLinkLocalV4(v4) ? 'link-local' : 'ordinary';
  const groups = ipv6Groups(canonical);
  if (groups) {
    if ((groups[0]! & 0xffc0) === 0xfe80) return 'link-local';
    const inner = embeddedIpv4(groups);
    if (inner && isLinkLocalV4(inner)) return 'link-local';
  }
  return 'ordinary';
}

/** Classifies the host of a base URL a server reported. */
export function classifyReportedUrl(url: string): ReportedAddressClass {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return 'invalid';
  }
  return classifyHost(hostname);
}

/**
 * Why a server-reported address must not become a route, in words, or null when it may (and is
 * then still checked to be the same server before any token goes there).
 */
export function reportedAddressProblem(url: string): string | null {
  switch (classifyReportedUrl(url)) {
    case 'ordinary':
      return null;
    case 'link-local':
      return 'it is a link-local address (169.254.0.0/16 or fe80::/10), where cloud metadata services answer';
    case 'metadata':
      return 'it is a cloud metadata address';
    case 'invalid':
      return 'it is not a valid http(s) address';
  }
}

// ---- Route kind of an address the user adds --------------------------------------------------

/** Where an address points: this network (loopback, private, link-local) or anywhere else. */
export type AddressScope = 'local' | 'remote';

const isPrivateV4 = (o: number[]) =>
  o[0] === 127 || o[0] === 10 || (o[0] === 172 && o[1]! >= 16 && o[1]! <= 31) || (o[0] === 192 && o[1] === 168) || isLinkLocalV4(o);

/**
 * The scope of a host (any spelling of an IP literal, or a name): `local` for loopback
 * (127/8, ::1), private ranges (RFC 1918, IPv6 ULA fc00::/7), link-local (169.254/16, fe80::/10),
 * IPv4 inside IPv6 in those ranges, `localhost` and LAN-only names (a single label, `.local`,
 * `.lan`, `.home.arpa`, `.internal`); `remote` for everything else — public addresses and names,
 * and also carrier-grade NAT space (100.64/10, where Tailscale puts its addresses: traffic there
 * may be relayed over the internet, so it is not assumed to be as good as the LAN).
 */
export function addressScope(host: string): AddressScope {
  const canonical = canonicalHost(host);
  if (canonical === null) return 'remote';
  const v4 = ipv4Octets(canonical);
  if (v4) return isPrivateV4(v4) ? 'local' : 'remote';
  const groups = ipv6Groups(canonical);
  if (groups) {
    const g0 = groups[0]!;
    if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return 'local'; // ::1
    if ((g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfe80) return 'local'; // ULA, link-local
    const inner = embeddedIpv4(groups);
    return inner && isPrivateV4(inner) ? 'local' : 'remote';
  }
  if (canonical === 'localhost' || canonical.endsWith('.localhost')) return 'local';
  return !canonical.includes('.') || /\.(local|lan|home\.arpa|internal)$/.test(canonical) ? 'local' : 'remote';
}

/** The scope of a base URL's host (`remote` when it is not a URL). */
export function urlScope(url: string): AddressScope {
  try {
    return addressScope(new URL(url).hostname);
  } catch {
    return 'remote';
  }
}

/** Canonical base URL (no trailing slash, no query) or null if not http(s). */
export function normaliseBaseUrl(raw: string): string | null {
  try {
    const url = new URL(raw);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || url.username || url.password) return null;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return null;
  }
}
