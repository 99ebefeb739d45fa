/**
 * One-time jobs queued by services (a campaign's run): the running Agenda is set here when jobs
 * start (index.ts), so a service can queue work without holding the scheduler itself.
 */
import type { Agenda } from 'agenda';

let scheduler: Agenda | null = null;

/** Installs (or, with null, removes) the process's running scheduler. */
export function setQueueScheduler(agenda: Agenda | null): void {
  scheduler = agenda;
}

/** Queues one run of the job `name` with `data`, to start as soon as a process takes it. */
export async function queueJob(name: string, data: Record<string, unknown>): Promise<void> {
  if (!scheduler) throw new Error(`job ${name} queued before the scheduler started`);
  await scheduler.now(name, data);
}
