/** Matching user-typed text in MongoDB filters (within the subset: `$regex`, no text indexes). */

/** The text with regex characters taken literally. */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A `contains, case-insensitive` filter for user-typed text. */
export const containsText = (q: string) => ({ $regex: escapeRegex(q), $options: 'i' });
