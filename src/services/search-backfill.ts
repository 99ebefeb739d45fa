/**
 * The startup backfill of folded search copies (src/models/search-text.ts): documents stored
 * before `search_text` existed get it, in the background, a bounded batch at a time, while the
 * lists already answer right through searchFilter's fallback. Every process runs it at start;
 * they share one cursor per collection, and a finished collection is not walked again.
 */
import type { Model } from 'mongoose';
import { logger } from '../logger.js';
import { CONTACT_SEARCHED, ContactModel } from '../models/contact.js';
import { DIVISION_SEARCHED, DivisionModel } from '../models/division.js';
import { MESSAGE_SEARCHED, MessageModel } from '../models/message.js';
import { backfillSearchText, type BackfillOptions } from '../models/search-text.js';
import { USER_SEARCHED, UserModel } from '../models/user.js';

/** A running backfill. */
export interface SearchBackfill {
  /** Settles when every collection is done, or the backfill stopped or failed (it logs why). */
  done: Promise<void>;
  /** Stops after the batch under way. */
  stop(): Promise<void>;
}

/** How the startup backfill paces itself. */
export interface SearchBackfillPace {
  /** Documents per batch (one read and one bulk write). */
  batch: number;
  /** Pause between batches. */
  pauseMs: number;
}

// 500 documents are one ~10 ms read and one bulk write on secantusd-rs; the pause leaves the
// database to live traffic most of the time.
const DEFAULT_PACE: SearchBackfillPace = { batch: 500, pauseMs: 50 };

/** Starts filling `search_text` on contacts, users, divisions and messages, one collection after another. */
export function startSearchBackfill(pace: SearchBackfillPace = DEFAULT_PACE): SearchBackfill {
  let stopped = false;
  const opts: BackfillOptions = { ...pace, stopped: () => stopped, log: (fields, message) => logger.info(fields, message) };
  const run = async () => {
    const targets: [Model<never>, readonly string[]][] = [
      [ContactModel as unknown as Model<never>, CONTACT_SEARCHED],
      [UserModel as unknown as Model<never>, USER_SEARCHED],
      [DivisionModel as unknown as Model<never>, DIVISION_SEARCHED],
      [MessageModel as unknown as Model<never>, MESSAGE_SEARCHED],
    ];
    for (const [model, fields] of targets) {
      if (stopped) return;
      await backfillSearchText(model, fields as never, opts);
    }
  };
  const done = run().catch((err: unknown) => {
    // Searches stay right without it (the fallback); the next start tries again.
    if (!stopped) logger.error({ err }, 'search_text backfill failed');
  });
  return {
    done,
    async stop() {
      stopped = true;
      await done;
    },
  };
}
