/**
 * Group commit: writes that arrive while one of their kind is on its way to the database go
 * together in the next one. Under load, a hundred concurrent callers cost a few round trips
 * instead of a hundred; alone, a caller waits for nothing but its own write. Each caller's items
 * stay together and in order (a change's events are never split across two writes).
 *
 * A write nobody waits on to answer a user (a bookkeeping record) may also linger: the first
 * item of an idle lane waits `lingerMs` for company, so a steady stream becomes a few writes a
 * second instead of one per item.
 */

interface Waiter<R> {
  count: number;
  resolve(results: R[]): void;
  reject(err: unknown): void;
}

interface Lane<T, R> {
  items: T[];
  waiters: Waiter<R>[];
  flying: boolean;
  /** While the lane's first items linger. */
  lingering: NodeJS.Timeout | null;
  /** Resolves when the lane's current flight ends. */
  landed: Promise<void> | null;
}

/** Batches items per key and writes each batch with `write`, which answers one result per item. */
export class GroupCommit<T, R> {
  private readonly lanes = new Map<string, Lane<T, R>>();

  constructor(
    private readonly write: (key: string, items: T[]) => Promise<R[]>,
    /** Most items in one write (a larger single call still goes alone). */
    private readonly maxBatch = 500,
    /** How long the first item of an idle lane waits for others before its write starts. */
    private readonly lingerMs = 0,
  ) {}

  /** Writes `items` (with whatever else is waiting for `key`); resolves with their results, in order. */
  add(key: string, items: T[]): Promise<R[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<R[]>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { items: [], waiters: [], flying: false, lingering: null, landed: null };
        this.lanes.set(key, lane);
      }
      lane.items.push(...items);
      lane.waiters.push({ count: items.length, resolve, reject });
      if (lane.flying) return;
      lane.flying = true;
      if (this.lingerMs > 0) lane.lingering = setTimeout(() => this.takeOff(key, lane), this.lingerMs);
      else this.takeOff(key, lane);
    });
  }

  /** Starts every lingering write now and resolves when all writes under way have landed. */
  async flush(): Promise<void> {
    const lanes = [...this.lanes];
    for (const [key, lane] of lanes) if (lane.lingering) this.takeOff(key, lane);
    await Promise.all(lanes.map(([, lane]) => lane.landed));
  }

  private takeOff(key: string, lane: Lane<T, R>): void {
    if (lane.lingering) clearTimeout(lane.lingering);
    lane.lingering = null;
    lane.landed = this.fly(key, lane);
  }

  private async fly(key: string, lane: Lane<T, R>): Promise<void> {
    while (lane.waiters.length > 0) {
      let take = 0;
      let size = 0;
      while (take < lane.waiters.length && (take === 0 || size + (lane.waiters[take]?.count ?? 0) <= this.maxBatch)) {
        size += lane.waiters[take]?.count ?? 0;
        take++;
      }
      const waiters = lane.waiters.splice(0, take);
      const items = lane.items.splice(0, size);
      try {
        const results = await this.write(key, items);
        let at = 0;
        for (const w of waiters) {
          w.resolve(results.slice(at, at + w.count));
          at += w.count;
        }
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    lane.flying = false;
    this.lanes.delete(key);
  }
}
