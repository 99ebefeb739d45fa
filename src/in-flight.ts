/**
 * Shares one read among the callers who ask for the same thing while it is under way: in a
 * reconnect storm thousands of sockets authenticate at once against a handful of users, roles
 * and one tenant. Nothing is kept once the read settles, so no answer is older than the read.
 *
 * A caller that must see a write it has just heard of (a session change announced after its
 * commit) passes a mark taken when it heard: a read that started before the mark may have
 * missed the write, so it is not joined.
 */

// Every read started by any InFlight gets the next number; a mark is the last number given.
let started = 0;

/** A mark for `run`: reads started after this call are joined, earlier ones are not. */
export const readMark = (): number => started;

/** Reads in flight by key, shared by the callers asking meanwhile. */
export class InFlight<T> {
  private readonly running = new Map<string, { n: number; result: Promise<T> }>();

  /** The result of `read` for `key`, joined if one started after `after` is running, else started now. */
  run(key: string, read: () => Promise<T>, after = -1): Promise<T> {
    const current = this.running.get(key);
    if (current && current.n > after) return current.result;
    const entry = { n: ++started, result: read() };
    this.running.set(key, entry);
    void entry.result.then(
      () => this.forget(key, entry),
      () => this.forget(key, entry),
    );
    return entry.result;
  }

  private forget(key: string, entry: { n: number }): void {
    // A later read may have taken the key meanwhile; that one stays.
    if (this.running.get(key) === entry) this.running.delete(key);
  }
}
