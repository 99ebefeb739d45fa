/** Resource ids: random UUIDs for new things, UUID v5 for things with a natural key (invariant 10). */
import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

// Fixed namespace for every OmniStream natural key; changing it would orphan existing ids.
const NAMESPACE = '6f1d8a52-3c1e-4f57-9a0b-2d7e5c4b9a10';

/** A new random id. */
export const newId = (): string => randomUUID();

/** The same id for the same natural key, so inserting it is an exactly-once claim. */
export const naturalId = (...parts: string[]): string => uuidv5(parts.join('\u001f'), NAMESPACE);
