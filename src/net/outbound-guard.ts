/**
 * Where tenant-configured outbound targets may connect: SMTP servers of e-mail accounts now,
 * outgoing-webhook URLs later (issue 8, "Abuse limits"). A tenant names a host; without this
 * guard the server would connect for them to its own loopback services, the cloud metadata
 * endpoint (169.254.169.254) or anything on the private network behind it (SSRF).
 *
 * The rule: resolve the name (every A/AAAA answer), refuse it when any answer is not public
 * unicast — loopback, unspecified, link-local, private, unique-local, CGNAT, multicast,
 * broadcast, reserved, and the IPv6 forms that embed an IPv4 address (::ffff:127.0.0.1) — unless
 * it lies in a network the operator allowed (OUTBOUND_ALLOWED_NETWORKS). Literal addresses are
 * read the way the resolver would read them (`2130706433`, `0x7f.1`, `127.1` are 127.0.0.1).
 *
 * Callers then connect to the address that was checked, never to the name again: a second
 * resolution could answer differently (DNS rebinding). `resolveOutboundTarget` answers that
 * address for clients that take one (SMTP), `outboundLookup` / `createOutboundAgent` check inside
 * Node's own connect for HTTP clients.
 *
 * Ranges come from ipaddr.js (the IANA special-purpose registries, kept up to date upstream)
 * rather than hand-written CIDR arithmetic, which is where such guards usually have holes.
 */
import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import ipaddr from 'ipaddr.js';

/** Every address a host name resolves to, as `dns.lookup(name, { all: true })` answers. */
export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

/** What the operator allows besides public unicast addresses, and how names are resolved. */
export interface OutboundPolicy {
  /** Networks (CIDR, or one address) that may be reached although not public, e.g. `127.0.0.1/32`. */
  allowedNetworks: readonly string[];
  /** The resolver; the system's (`dns.lookup`, which also reads /etc/hosts) when absent. */
  lookup?: LookupAll | undefined;
  /** Extra PEM certificates trusted for TLS to these targets, besides Node's own CA list. */
  ca?: string | null | undefined;
}

/** The policy with nothing allowed beyond public addresses. */
export const PUBLIC_ONLY: OutboundPolicy = { allowedNetworks: [] };

/** Why a target was refused: `refused` (a non-public address) or `unresolvable` (no address at all). */
export type OutboundRefusal = 'refused' | 'unresolvable';

/** A target the guard will not connect to; `message` reads after the field or host name. */
export class OutboundTargetError extends Error {
  constructor(
    message: string,
    readonly reason: OutboundRefusal,
    /** The offending address, when one was found. */
    readonly address: string | null,
  ) {
    super(message);
    this.name = 'OutboundTargetError';
  }
}

/** A checked target: the host as configured, and the address to connect to instead of it. */
export interface CheckedTarget {
  host: string;
  /** The first answer; every answer was checked. */
  address: string;
  family: 4 | 6;
  /** Every answer, in resolver order. */
  addresses: string[];
  /** True when `host` was itself an address (then there is no name for TLS SNI). */
  literal: boolean;
}

/** How each ipaddr.js range is named in messages; anything not listed is "reserved". */
const RANGE_WORDS: Record<string, string> = {
  loopback: 'loopback',
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  private: 'private',
  uniqueLocal: 'private',
  carrierGradeNat: 'shared (CGNAT)',
  multicast: 'multicast',
  broadcast: 'broadcast',
};

/** Reads an address the way the system resolver does (inet_aton forms included); null for a name. */
export function parseLiteralAddress(host: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare)) return ipaddr.parse(bare);
  // ipaddr.js accepts what inet_aton does and isIP does not: 2130706433, 0x7f.1, 0177.0.0.1, 127.1.
  return ipaddr.IPv4.isValid(bare) ? ipaddr.IPv4.parse(bare) : null;
}

/** An IPv6 address that stands for an IPv4 one (mapped ::ffff:a.b.c.d, or compatible ::a.b.c.d) as that IPv4 address. */
function unwrap(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.kind() === 'ipv4') return address;
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  // The deprecated IPv4-compatible form ::a.b.c.d (RFC 4291 §2.5.5.1), except :: and ::1.
  const [a, b, c, d, e, f, g, h] = v6.parts;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && (g !== 0 || (h ?? 0) > 1)) return v6.toIPv4Address();
  return v6;
}

/** The ipaddr.js range of an address after unwrapping embedded IPv4: `unicast` means public. */
export function addressRange(address: string): string {
  const parsed = parseLiteralAddress(address);
  if (!parsed) throw new TypeError(`not an IP address: ${address}`);
  return unwrap(parsed).range();
}

/** The networks of a policy, parsed once per list. */
const parsedNetworks = new WeakMap<readonly string[], [ipaddr.IPv4 | ipaddr.IPv6, number][]>();

/** Parses a CIDR or a single address into [address, prefix length]; throws on anything else. */
export function parseNetwork(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const value = text.trim();
  if (value.includes('/')) return ipaddr.parseCIDR(value);
  const address = ipaddr.parse(value);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

function networksOf(policy: OutboundPolicy): [ipaddr.IPv4 | ipaddr.IPv6, number][] {
  let networks = parsedNetworks.get(policy.allowedNetworks);
  if (!networks) {
    networks = policy.allowedNetworks.map((n) => {
      const [address, bits] = parseNetwork(n);
      const plain = unwrap(address);
      // An allowed ::ffff:10.0.0.0/104 is the IPv4 network 10.0.0.0/8, the form addresses are compared in.
      return plain === address ? [address, bits] : [plain, Math.max(0, bits - 96)];
    });
    parsedNetworks.set(policy.allowedNetworks, networks);
  }
  return networks;
}

/**
 * Why `address` may not be reached under `policy` (e.g. "a link-local address (169.254.169.254)"),
 * or null when it may: public unicast, or inside an allowed network.
 */
export function refusalOf(address: string, policy: OutboundPolicy): string | null {
  const parsed = parseLiteralAddress(address);
  if (!parsed) return `not an IP address (${address})`;
  const plain = unwrap(parsed);
  const range = plain.range();
  if (range === 'unicast') return null;
  if (networksOf(policy).some(([net, bits]) => net.kind() === plain.kind() && plain.match(net, bits))) return null;
  const word = RANGE_WORDS[range] ?? 'reserved';
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word} address (${plain.toString()})`;
}

const systemLookup: LookupAll = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/**
 * Resolves `host` and checks every answer; answers the address to connect to. Throws
 * OutboundTargetError: `refused` when an answer is not allowed (message "resolves to a private
 * address (10.0.0.5)" or, for a literal, "is a loopback address (127.0.0.1)"), `unresolvable`
 * when the name has no address (NXDOMAIN, resolver down).
 */
export async function resolveOutboundTarget(host: string, policy: OutboundPolicy = PUBLIC_ONLY): Promise<CheckedTarget> {
  const literal = parseLiteralAddress(host);
  if (literal) {
    const address = unwrap(literal).toString();
    const refusal = refusalOf(address, policy);
    if (refusal) throw new OutboundTargetError(`is ${refusal}`, 'refused', address);
    return { host, address, family: isIP(address) === 6 ? 6 : 4, addresses: [address], literal: true };
  }
  let answers: LookupAddress[];
  try {
    answers = await (policy.lookup ?? systemLookup)(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new OutboundTargetError(`does not resolve (${code})`, 'unresolvable', null);
  }
  if (answers.length === 0) throw new OutboundTargetError('does not resolve (no address)', 'unresolvable', null);
  const addresses: string[] = [];
  for (const answer of answers) {
    const parsed = parseLiteralAddress(answer.address);
    if (!parsed) throw new OutboundTargetError(`resolves to something that is not an address (${answer.address})`, 'refused', answer.address);
    const address = unwrap(parsed).toString();
    const refusal = refusalOf(address, policy);
    if (refusal) throw new OutboundTargetError(`resolves to ${refusal}`, 'refused', address);
    addresses.push(address);
  }
  const first = addresses[0] as string;
  return { host, address: first, family: isIP(first) === 6 ? 6 : 4, addresses, literal: false };
}

/**
 * A `lookup` for Node's net/http/https options that resolves with the policy's resolver and
 * fails the connection (error code EOUTBOUNDREFUSED) unless every answer is allowed; the socket
 * then connects to exactly what was checked. Node skips `lookup` for literal addresses: use
 * createOutboundAgent, which checks those too.
 */
export function outboundLookup(policy: OutboundPolicy = PUBLIC_ONLY) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolveOutboundTarget(hostname, policy).then(
      (target) => {
        const wanted = options.family === 4 || options.family === 6 ? target.addresses.filter((a) => isIP(a) === options.family) : target.addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }), '');
        if (options.all) return callback(null, wanted.map((address) => ({ address, family: isIP(address) })));
        const address = wanted[0] as string;
        return callback(null, address, isIP(address));
      },
      (err: unknown) => callback(toErrno(hostname, err), ''),
    );
  };
}

function toErrno(hostname: string, err: unknown): NodeJS.ErrnoException {
  if (err instanceof OutboundTargetError) return Object.assign(new Error(`${hostname} ${err.message}`), { code: err.reason === 'refused' ? 'EOUTBOUNDREFUSED' : 'ENOTFOUND' });
  return err as NodeJS.ErrnoException;
}

type ConnectionCallback = (err: Error | null, stream: Duplex) => void;

/**
 * An http or https Agent for requests to tenant-configured URLs: host names go through
 * outboundLookup, literal addresses (which Node never looks up) are checked before connecting.
 * A refused target fails the request with code EOUTBOUNDREFUSED before any byte is sent.
 */
export function createOutboundAgent(policy: OutboundPolicy = PUBLIC_ONLY, protocol: 'http:' | 'https:' = 'https:'): http.Agent {
  // Connections are kept for the next request to the same host (checked once, when they were
  // made); an idle one is closed after 4 s, before a server's usual 5 s keep-alive limit can close
  // it under a request.
  const lookup = outboundLookup(policy);
  const reuse = { keepAlive: true, timeout: 4_000 };
  const refuseLiteral = (host: string | null | undefined, callback: ConnectionCallback | undefined): boolean => {
    const literal = host ? parseLiteralAddress(host) : null;
    const refusal = literal ? refusalOf(unwrap(literal).toString(), policy) : null;
    if (!refusal) return false;
    const err = Object.assign(new Error(`${host} is ${refusal}`), { code: 'EOUTBOUNDREFUSED' });
    process.nextTick(() => callback?.(err, undefined as unknown as Duplex));
    return true;
  };
  if (protocol === 'http:') {
    return new (class extends http.Agent {
      override createConnection(options: http.ClientRequestArgs, callback?: ConnectionCallback) {
        return refuseLiteral(options.host, callback) ? undefined : super.createConnection(options, callback);
      }
    })({ lookup, ...reuse });
  }
  return new (class extends https.Agent {
    override createConnection(options: https.RequestOptions, callback?: ConnectionCallback) {
      return refuseLiteral(options.host, callback) ? undefined : super.createConnection(options, callback);
    }
  })({ lookup, ...reuse, ...(policy.ca ? { ca: outboundCa(policy.ca) } : {}) });
}

/** Node's CA list plus the policy's extra PEM certificates (a `ca` option alone would replace Node's list). */
export function outboundCa(extra: string): string[] {
  return [...tls.rootCertificates, extra];
}
