/** Schemas shared by every API group: ids, pagination, timestamps, errors. */
import { z } from 'zod';

/** A resource id. */
export const Id = z.uuid({ message: 'must be a UUID' });

/** `/{id}` path parameters. */
export const IdParams = z.strictObject({ id: Id });

/** RFC 3339 UTC timestamp as it leaves the API. */
export const Timestamp = z.iso.datetime();

/** Hard cap on page size for every list. */
export const MAX_PAGE_SIZE = 100;

/** `?page=&limit=` for every paginated list. */
export const PageQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(100000).default(1),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(20),
});

/** The envelope of a paginated list. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    pagination: z.object({
      page: z.number().int(),
      limit: z.number().int(),
      total: z.number().int(),
      total_pages: z.number().int(),
    }),
  });

/** A `{ message }` answer, e.g. for deletions. */
export const MessageBody = z.object({ message: z.string() });

/** Every error answer. */
export const ErrorBody = z.object({
  message: z.string(),
  code: z.string(),
  details: z.array(z.unknown()).optional(),
});

/** `?flag=true|false` as a boolean. */
export const BoolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
