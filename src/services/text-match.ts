/** Matching user-typed text in MongoDB filters (within the subset: `$regex`, no text indexes). */
import { foldText } from '../models/search-text.js';

/** The text with regex characters taken literally. */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A `contains, case-insensitive` filter for user-typed text. */
export const containsText = (q: string) => ({ $regex: escapeRegex(q), $options: 'i' });

/** One text to look for, and the fields a document without a search copy is searched in for it. */
export interface SearchTerm {
  text: string;
  fields: readonly string[];
}

/**
 * Documents whose folded search copy (src/models/search-text.ts) contains any of the terms,
 * folded the same way and taken literally: one case-sensitive `$regex`, which secantusd-rs runs
 * about 40 times faster than `$options: 'i'`. A document stored before the copy existed (until
 * the startup backfill reaches it) is matched the old way, case-insensitively on its fields;
 * once every document has the copy that branch costs one `$exists` per document.
 */
export function searchFilter(terms: readonly SearchTerm[]): { $or: Record<string, unknown>[] } {
  // A term that folds to nothing (only combining marks) cannot be inside any folded copy.
  const folded = terms.map((t) => escapeRegex(foldText(t.text))).filter((t) => t !== '');
  const legacy = terms.flatMap((t) => t.fields.map((f) => ({ [f]: containsText(t.text) })));
  return {
    $or: [
      // One branch per term: secantusd-rs runs an alternation `a|b` several times slower than two literals.
      ...[...new Set(folded)].map((t) => ({ search_text: { $regex: t } })),
      { search_text: { $exists: false }, $or: legacy },
    ],
  };
}
