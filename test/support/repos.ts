/** Reading stored documents in tests through the tenant-scoped repositories, as production code does. */
import type { TenantDoc } from '../../src/models/base.js';
import type { Scoped, TenantRepo } from '../../src/models/repo.js';

/** The oldest document matching the scoped filter, or null. */
export async function findFirst<T extends TenantDoc>(repo: TenantRepo<T>, filter: Scoped): Promise<T | null> {
  const [first] = await repo.find(filter, { created_at: 1, _id: 1 }, 1);
  return first ?? null;
}
