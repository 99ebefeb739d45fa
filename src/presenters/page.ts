/** Shapes a repository page into the list envelope. */
import type { Page } from '../models/repo.js';

/** `{ data, pagination }` with each item presented by `present`. */
export function presentPage<T, R>(page: Page<T>, present: (item: T) => R) {
  return {
    data: page.items.map(present),
    pagination: {
      page: page.page,
      limit: page.limit,
      total: page.total,
      total_pages: Math.ceil(page.total / page.limit),
    },
  };
}

/** A Date (or null) as an RFC 3339 UTC string (or null). */
export const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);
