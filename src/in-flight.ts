/**
 * Shares one read among the callers who ask for the same thing while it is under way: in a
 * reconnect storm thousands of sockets authenticate at once against a handful of users, roles
 * and one tenant. Nothing is kept once the read settles, so no answer is older than the read.
 */
export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** The result of `read` for `key`, started now or joined if one is running. */
  run(key: string, read: () => Promise<T>): Promise<T> {
    const current = this.running.get(key);
    if (current) return current;
    const started = read().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}
