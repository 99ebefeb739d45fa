/**
 * The outbound-target guard (src/net/outbound-guard.ts): every non-public range refused, IPv4
 * hidden in IPv6 and the odd literal spellings the system resolver accepts read as what they
 * are, host names judged by every address they resolve to (a fake resolver passed as `lookup`),
 * allowed networks from configuration, and Node's http client refused before it connects.
 */
import http from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo } from 'node:net';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseConfig } from '../../src/config.js';
import {
  addressRange,
  createOutboundAgent,
  outboundLookup,
  OutboundTargetError,
  PUBLIC_ONLY,
  refusalOf,
  resolveOutboundTarget,
  type LookupAll,
  type OutboundPolicy,
} from '../../src/net/outbound-guard.js';

/** A resolver that knows only `table`, failing like getaddrinfo (ENOTFOUND) for anything else. */
function fakeResolver(table: Record<string, string[]>): LookupAll & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

/** A resolver that must not be asked: literal addresses are judged without DNS. */
const noLookup: LookupAll = async (hostname) => {
  throw new Error(`looked up ${hostname}`);
};

async function refusal(host: string, policy: OutboundPolicy = { allowedNetworks: [], lookup: noLookup }): Promise<OutboundTargetError> {
  const err = await resolveOutboundTarget(host, policy).then(() => null, (e: unknown) => e);
  expect(err, `${host} should be refused`).to.be.instanceOf(OutboundTargetError);
  return err as OutboundTargetError;
}

describe('outbound guard: address ranges', () => {
  const refused: [string, string][] = [
    ['127.0.0.1', 'a loopback address (127.0.0.1)'],
    ['127.255.255.254', 'a loopback address (127.255.255.254)'],
    ['::1', 'a loopback address (::1)'],
    ['0.0.0.0', 'an unspecified address (0.0.0.0)'],
    ['0.1.2.3', 'an unspecified address (0.1.2.3)'],
    ['::', 'an unspecified address (::)'],
    ['169.254.169.254', 'a link-local address (169.254.169.254)'],
    ['169.254.0.1', 'a link-local address (169.254.0.1)'],
    ['fe80::1', 'a link-local address (fe80::1)'],
    ['fe80::1%eth0', 'a link-local address (fe80::1%eth0)'],
    ['febf::1', 'a link-local address (febf::1)'],
    ['10.0.0.5', 'a private address (10.0.0.5)'],
    ['10.255.255.255', 'a private address (10.255.255.255)'],
    ['172.16.0.1', 'a private address (172.16.0.1)'],
    ['172.31.255.255', 'a private address (172.31.255.255)'],
    ['192.168.1.1', 'a private address (192.168.1.1)'],
    ['fc00::1', 'a private address (fc00::1)'],
    ['fd12:3456::1', 'a private address (fd12:3456::1)'],
    ['100.64.0.1', 'a shared (CGNAT) address (100.64.0.1)'],
    ['100.127.255.254', 'a shared (CGNAT) address (100.127.255.254)'],
    ['224.0.0.1', 'a multicast address (224.0.0.1)'],
    ['239.255.255.250', 'a multicast address (239.255.255.250)'],
    ['ff02::1', 'a multicast address (ff02::1)'],
    ['255.255.255.255', 'a broadcast address (255.255.255.255)'],
    ['240.0.0.1', 'a reserved address (240.0.0.1)'],
    ['192.0.2.10', 'a reserved address (192.0.2.10)'],
    ['198.18.0.1', 'a reserved address (198.18.0.1)'],
    ['2001:db8::1', 'a reserved address (2001:db8::1)'],
    // IPv4 inside IPv6: mapped, compatible, and the NAT64 / 6to4 prefixes that reach IPv4 through a gateway.
    ['::ffff:127.0.0.1', 'a loopback address (127.0.0.1)'],
    ['::ffff:7f00:1', 'a loopback address (127.0.0.1)'],
    ['[::ffff:127.0.0.1]', 'a loopback address (127.0.0.1)'],
    ['::ffff:169.254.169.254', 'a link-local address (169.254.169.254)'],
    ['::ffff:10.0.0.5', 'a private address (10.0.0.5)'],
    ['::127.0.0.1', 'a loopback address (127.0.0.1)'],
    ['64:ff9b::a00:5', 'a reserved address (64:ff9b::a00:5)'],
    ['2002:a00:5::', 'a reserved address (2002:a00:5::)'],
  ];
  for (const [address, reason] of refused) {
    it(`refuses ${address} as ${reason}`, async () => {
      expect(refusalOf(address, PUBLIC_ONLY)).to.equal(reason);
      const err = await refusal(address);
      expect(err.message).to.equal(`is ${reason}`);
      expect(err.reason).to.equal('refused');
    });
  }

  it('reads the literal spellings the resolver accepts as the address they are (decimal, hex, octal, short)', async () => {
    const spellings: [string, string][] = [
      ['2130706433', 'a loopback address (127.0.0.1)'],
      ['0x7f.1', 'a loopback address (127.0.0.1)'],
      ['0x7f000001', 'a loopback address (127.0.0.1)'],
      ['0177.0.0.1', 'a loopback address (127.0.0.1)'],
      ['127.1', 'a loopback address (127.0.0.1)'],
      ['017700000001', 'a loopback address (127.0.0.1)'],
      ['0xa9fea9fe', 'a link-local address (169.254.169.254)'],
      ['169.254.43518', 'a link-local address (169.254.169.254)'],
      ['3232235777', 'a private address (192.168.1.1)'],
      ['0', 'an unspecified address (0.0.0.0)'],
    ];
    for (const [host, reason] of spellings) {
      expect((await refusal(host)).message, host).to.equal(`is ${reason}`);
    }
  });

  it('allows public unicast addresses, just outside each refused range', async () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '93.184.215.14', '11.0.0.0', '172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0', '169.253.255.255', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(refusalOf(address, PUBLIC_ONLY), address).to.equal(null);
      expect(addressRange(address), address).to.equal('unicast');
    }
    const target = await resolveOutboundTarget('::ffff:8.8.8.8', { allowedNetworks: [], lookup: noLookup });
    expect(target).to.deep.equal({ host: '::ffff:8.8.8.8', address: '8.8.8.8', family: 4, addresses: ['8.8.8.8'], literal: true });
  });
});

describe('outbound guard: host names', () => {
  it('refuses a name that resolves to a private address, naming it', async () => {
    const lookup = fakeResolver({ 'smtp.evil.test': ['10.0.0.5'] });
    const err = await refusal('smtp.evil.test', { allowedNetworks: [], lookup });
    expect(err.message).to.equal('resolves to a private address (10.0.0.5)');
    expect(err.address).to.equal('10.0.0.5');
    expect(lookup.calls).to.deep.equal(['smtp.evil.test']);
  });

  it('refuses a name when any one of its answers is not public (the metadata address among public ones)', async () => {
    const lookup = fakeResolver({ 'mixed.test': ['93.184.215.14', '2606:4700:4700::1111', '169.254.169.254'], 'mapped.test': ['::ffff:127.0.0.1'] });
    expect((await refusal('mixed.test', { allowedNetworks: [], lookup })).message).to.equal('resolves to a link-local address (169.254.169.254)');
    expect((await refusal('mapped.test', { allowedNetworks: [], lookup })).message).to.equal('resolves to a loopback address (127.0.0.1)');
  });

  it('answers every checked address and the first one to connect to', async () => {
    const lookup = fakeResolver({ 'smtp.good.test': ['93.184.215.14', '2606:4700:4700::1111'] });
    const target = await resolveOutboundTarget('smtp.good.test', { allowedNetworks: [], lookup });
    expect(target).to.deep.equal({ host: 'smtp.good.test', address: '93.184.215.14', family: 4, addresses: ['93.184.215.14', '2606:4700:4700::1111'], literal: false });
  });

  it('calls a name that does not resolve unresolvable, not refused', async () => {
    const err = await refusal('nowhere.test', { allowedNetworks: [], lookup: fakeResolver({}) });
    expect(err).to.deep.include({ reason: 'unresolvable', address: null, message: 'does not resolve (ENOTFOUND)' });
    const empty = await refusal('empty.test', { allowedNetworks: [], lookup: fakeResolver({ 'empty.test': [] }) });
    expect(empty.reason).to.equal('unresolvable');
  });

  it('uses the system resolver by default: localhost is refused', async () => {
    expect((await refusal('localhost', PUBLIC_ONLY)).message).to.match(/^resolves to a loopback address \((127\.0\.0\.1|::1)\)$/);
  });
});

describe('outbound guard: allowed networks', () => {
  it('allows exactly the configured networks, in their IPv4-mapped forms too', async () => {
    const policy: OutboundPolicy = { allowedNetworks: ['127.0.0.1/32', '10.20.0.0/16', 'fd00::/8'], lookup: fakeResolver({ 'relay.corp.test': ['10.20.3.4'], 'meta.corp.test': ['10.20.3.4', '169.254.169.254'] }) };
    for (const host of ['127.0.0.1', '::ffff:127.0.0.1', '0x7f.1', '2130706433', '10.20.255.1', 'fd00::25', 'relay.corp.test']) {
      expect((await resolveOutboundTarget(host, policy)).addresses, host).to.have.length(1);
    }
    expect((await refusal('127.0.0.2', policy)).message).to.equal('is a loopback address (127.0.0.2)');
    expect((await refusal('10.21.0.1', policy)).message).to.equal('is a private address (10.21.0.1)');
    expect((await refusal('meta.corp.test', policy)).message).to.equal('resolves to a link-local address (169.254.169.254)');
    const mappedCidr: OutboundPolicy = { allowedNetworks: ['::ffff:10.0.0.0/104'] };
    expect(refusalOf('10.9.8.7', mappedCidr)).to.equal(null);
  });

  it('reads OUTBOUND_ALLOWED_NETWORKS and OUTBOUND_TLS_CA_FILE from the environment, refusing bad values at start', () => {
    const base = { MONGODB_URI: 'mongodb://127.0.0.1:1/x', REDIS_URL: 'redis://127.0.0.1:1' };
    expect(parseConfig(base).outbound).to.deep.equal({ allowedNetworks: [], ca: null });
    expect(parseConfig({ ...base, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: 'a'.repeat(64) }).outbound.allowedNetworks).to.deep.equal([]);
    expect(parseConfig({ ...base, OUTBOUND_ALLOWED_NETWORKS: ' 127.0.0.1/32, 10.0.0.0/8 ,::1' }).outbound.allowedNetworks).to.deep.equal(['127.0.0.1/32', '10.0.0.0/8', '::1']);
    expect(() => parseConfig({ ...base, OUTBOUND_ALLOWED_NETWORKS: '10.0.0.0/8,intranet' })).to.throw(/OUTBOUND_ALLOWED_NETWORKS: must be a comma-separated list of CIDRs/);
    expect(() => parseConfig({ ...base, OUTBOUND_ALLOWED_NETWORKS: '10.0.0.0/33' })).to.throw(/OUTBOUND_ALLOWED_NETWORKS/);
    const dir = mkdtempSync(join(tmpdir(), 'outbound-ca-'));
    expect(() => parseConfig({ ...base, OUTBOUND_TLS_CA_FILE: join(dir, 'missing.pem') })).to.throw(/OUTBOUND_TLS_CA_FILE: cannot read/);
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
    expect(() => parseConfig({ ...base, OUTBOUND_TLS_CA_FILE: join(dir, 'junk.pem') })).to.throw(/OUTBOUND_TLS_CA_FILE: .* holds no PEM certificate/);
    const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
    writeFileSync(join(dir, 'ca.pem'), pem);
    expect(parseConfig({ ...base, OUTBOUND_TLS_CA_FILE: join(dir, 'ca.pem') }).outbound.ca).to.equal(pem);
  });
});

describe('outbound guard: Node http client (the future webhook sender)', () => {
  let server: http.Server;
  let port = 0;
  let hits = 0;
  before(async () => {
    server = http.createServer((_req, res) => {
      hits++;
      res.end('reached');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** GETs `url` with `options`; answers the body or the error's code. */
  const get = (url: string, options: http.RequestOptions) =>
    new Promise<{ body?: string; code?: string; message?: string }>((resolve) => {
      const req = http.get(url, options, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ body }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? 'none', message: err.message }));
    });

  it('refuses loopback by default, by name and by every literal spelling, before connecting', async () => {
    const agent = createOutboundAgent(PUBLIC_ONLY, 'http:');
    hits = 0;
    for (const host of ['localhost', '127.0.0.1', '0x7f.1', '2130706433', '[::ffff:127.0.0.1]']) {
      const answer = await get(`http://${host}:${port}/hook`, { agent });
      expect(answer.code, host).to.equal('EOUTBOUNDREFUSED');
      expect(answer.message, host).to.match(/loopback address \(127\.0\.0\.1|::1\)/);
    }
    expect(hits).to.equal(0);
  });

  it('connects when the configuration allows the network', async () => {
    const agent = createOutboundAgent({ allowedNetworks: ['127.0.0.1/32'] }, 'http:');
    hits = 0;
    expect(await get(`http://127.0.0.1:${port}/hook`, { agent })).to.deep.equal({ body: 'reached' });
    expect(await get(`http://localhost:${port}/hook`, { agent, family: 4 })).to.deep.equal({ body: 'reached' });
    expect(hits).to.equal(2);
  });

  it('gives Node the address it checked: a name only the guard resolves reaches it, and a rebinding name does not', async () => {
    const lookup = fakeResolver({ 'hooks.tenant.test': ['127.0.0.1'], 'rebind.tenant.test': ['93.184.215.14', '127.0.0.1'] });
    hits = 0;
    const allowed = await get(`http://hooks.tenant.test:${port}/hook`, { lookup: outboundLookup({ allowedNetworks: ['127.0.0.1/32'], lookup }) });
    expect(allowed).to.deep.equal({ body: 'reached' });
    const refused = await get(`http://rebind.tenant.test:${port}/hook`, { lookup: outboundLookup({ allowedNetworks: [], lookup }) });
    expect(refused).to.deep.include({ code: 'EOUTBOUNDREFUSED' });
    expect(refused.message).to.equal('rebind.tenant.test resolves to a loopback address (127.0.0.1)');
    expect(hits).to.equal(1);
  });
});
