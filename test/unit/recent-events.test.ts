/** RecentEvents (src/realtime/recent-events.ts): the replay memory stays bounded whatever publishes. */
import { expect } from 'chai';
import type { DomainEvent } from '../../src/events/types.js';
import { RecentEvents } from '../../src/realtime/recent-events.js';

const event = (tenant: string, seq: number) => ({ id: `${tenant}:${seq}`, tenant_id: tenant, seq, event: 'contact.updated', data: null, audience: { scope: 'tenant', permission: null }, created_at: '' }) as unknown as DomainEvent;
const seqs = (events: DomainEvent[] | null) => events?.map((e) => e.seq) ?? null;

describe('RecentEvents', () => {
  it('keeps the last window of a tenant, evicting the smallest seq even when a gap fill arrives late', () => {
    const recent = new RecentEvents(3);
    for (const seq of [1, 2, 4, 5]) recent.add(event('t', seq));
    // 3 arrives after 4 and 5 (a gap fill): 1 and 2 are the ones to go.
    recent.add(event('t', 3));
    expect(seqs(recent.range('t', 2, 5))).to.deep.equal([3, 4, 5]);
    expect(recent.range('t', 1, 5)).to.equal(null);
    recent.add(event('t', 3));
    expect(seqs(recent.range('t', 2, 5))).to.deep.equal([3, 4, 5]);
  });

  it('forgets the least recently active tenant beyond its bound, so memory does not grow with organizations', () => {
    const recent = new RecentEvents(10, 100);
    for (let t = 0; t < 10_000; t++) recent.add(event(`tenant-${t}`, 1));
    expect(recent.size).to.equal(100);
    expect(recent.range('tenant-0', 0, 1)).to.equal(null);
    expect(seqs(recent.range('tenant-9999', 0, 1))).to.deep.equal([1]);
    // An event keeps a tenant remembered.
    recent.add(event('tenant-9900', 2));
    for (let t = 10_000; t < 10_099; t++) recent.add(event(`tenant-${t}`, 1));
    expect(seqs(recent.range('tenant-9900', 0, 2))).to.deep.equal([1, 2]);
  });
});
