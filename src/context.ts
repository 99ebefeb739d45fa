/**
 * The process's shared resources, set once at boot. Services reach Redis, storage, the actor
 * system and configuration through here rather than through constructor plumbing.
 */
import type { Redis } from 'ioredis';
import type { ActorSystem } from '../actors/runtime.js';
import type { Config } from './config.js';
import type { DurableListeners } from './events/listener-runner.js';
import type { WebhookWorker } from './services/webhook-worker.js';
import type { MediaStorage } from './storage/index.js';

/** What a running server holds. */
export interface AppContext {
  config: Config;
  redis: Redis;
  storage: MediaStorage;
  actors: ActorSystem;
  /** Processes stored webhook deliveries in this process. */
  webhooks: WebhookWorker;
  /** Runs the durable event listeners in this process. */
  listeners: DurableListeners;
}

let current: AppContext | null = null;

/** Installs the context (boot, or a test's server). */
export function setAppContext(ctx: AppContext | null): void {
  current = ctx;
}

/** The context; throws when the server has not booted. */
export function appContext(): AppContext {
  if (!current) throw new Error('OmniStream context used before boot');
  return current;
}
