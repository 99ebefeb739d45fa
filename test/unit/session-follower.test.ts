import { expect } from 'chai';
import { InFlight } from '../../src/in-flight.js';
import { SessionFollower } from '../../src/realtime/sessions.js';

describe('SessionFollower.readsAfter', () => {
  it('keeps a handshake after a heard change from joining a read that started before it', async () => {
    const follower = new SessionFollower(() => []);
    const reads = new InFlight<string>();
    let finishStale: (v: string) => void = () => undefined;
    // A handshake's read of the user, under way when the deactivation is heard.
    const stale = reads.run('user', () => new Promise<string>((resolve) => (finishStale = resolve)), follower.readsAfter());
    follower.hear({ tenantId: 't', userIds: ['user'] });
    // A handshake that starts now: its mark already counts the change, so its read must see it.
    const mark = follower.mark();
    const fresh = reads.run('user', async () => 'after the change', follower.readsAfter());
    finishStale('before the change');
    expect(await stale).to.equal('before the change');
    expect(await fresh).to.equal('after the change');
    expect(follower.mark()).to.equal(mark);
    // With no change heard since, handshakes share one read again.
    const first = reads.run('user', async () => 'shared', follower.readsAfter());
    expect(await reads.run('user', async () => 'second', follower.readsAfter())).to.equal(await first);
  });
});
