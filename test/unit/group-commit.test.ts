/**
 * Group commit (src/group-commit.ts): callers arriving while a write is under way share the next
 * one, each caller's items stay together and in order, and a lingering lane waits for company
 * unless it is flushed.
 */
import { expect } from 'chai';
import { GroupCommit } from '../../src/group-commit.js';

/** A writer that records each batch and answers every item doubled, released by hand. */
function recordedWriter() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  const write = (_key: string, items: number[]) =>
    new Promise<number[]>((resolve) => {
      batches.push(items);
      pending.push(() => resolve(items.map((i) => i * 2)));
    });
  const releaseAll = () => {
    for (const release of pending.splice(0)) release();
  };
  return { batches, write, releaseAll };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('group commit', () => {
  it('writes alone when idle, then sends what arrived meanwhile together, each caller its own results', async () => {
    const w = recordedWriter();
    const commit = new GroupCommit<number, number>(w.write);
    const first = commit.add('k', [1]);
    const second = commit.add('k', [2, 3]);
    const third = commit.add('k', [4]);
    await tick();
    expect(w.batches).to.deep.equal([[1]]);
    w.releaseAll();
    expect(await first).to.deep.equal([2]);
    await tick();
    expect(w.batches).to.deep.equal([[1], [2, 3, 4]]);
    w.releaseAll();
    expect(await Promise.all([second, third])).to.deep.equal([[4, 6], [8]]);
  });

  it('keeps lanes of different keys apart and never splits one caller across writes', async () => {
    const w = recordedWriter();
    const commit = new GroupCommit<number, number>(w.write, 3);
    const a = commit.add('a', [1]);
    const b = commit.add('b', [10]);
    const rest = [commit.add('a', [2, 3]), commit.add('a', [4, 5])];
    await tick();
    expect(w.batches).to.deep.equal([[1], [10]]);
    w.releaseAll();
    await Promise.all([a, b]);
    await tick();
    // [2, 3] and [4, 5] together would exceed 3 items: the second caller waits for the next write.
    expect(w.batches.slice(2)).to.deep.equal([[2, 3]]);
    w.releaseAll();
    await rest[0];
    await tick();
    expect(w.batches.slice(3)).to.deep.equal([[4, 5]]);
    w.releaseAll();
    expect(await rest[1]).to.deep.equal([8, 10]);
  });

  it('rejects every caller of a failed write, and the lane goes on with the next', async () => {
    let calls = 0;
    const commit = new GroupCommit<number, number>(async (_key, items) => {
      calls++;
      if (calls === 1) throw new Error('write refused');
      return items;
    });
    const failed = commit.add('k', [1]);
    const next = commit.add('k', [2]);
    const [outcome, ok] = await Promise.allSettled([failed, next]);
    expect(outcome.status).to.equal('rejected');
    expect((outcome as PromiseRejectedResult).reason).to.have.property('message', 'write refused');
    expect(ok).to.deep.equal({ status: 'fulfilled', value: [2] });
  });

  it('lets the first items of an idle lane linger for company, and flush starts them at once', async () => {
    const w = recordedWriter();
    const commit = new GroupCommit<number, number>(w.write, 500, 60_000);
    const first = commit.add('k', [1]);
    const second = commit.add('k', [2]);
    await tick();
    expect(w.batches).to.deep.equal([]);
    const flushed = commit.flush();
    await tick();
    expect(w.batches).to.deep.equal([[1, 2]]);
    let landed = false;
    void flushed.then(() => (landed = true));
    await tick();
    expect(landed, 'flush waits for the write it started').to.equal(false);
    w.releaseAll();
    await flushed;
    expect(await Promise.all([first, second])).to.deep.equal([[2], [4]]);
  });

  it('writes lingering items by itself once the linger is over', async () => {
    let written = 0;
    const commit = new GroupCommit<number, number>(async (_key, items) => {
      written += items.length;
      return items;
    }, 500, 20);
    const result = commit.add('k', [7]);
    await tick();
    expect(written).to.equal(0);
    expect(await result).to.deep.equal([7]);
    expect(written).to.equal(1);
  });
});
