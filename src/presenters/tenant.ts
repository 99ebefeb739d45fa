/** The tenant organization as its members see it. */
import { z } from 'zod';
import type { Tenant } from '../models/tenant.js';
import { iso } from './page.js';

/** The tenant JSON shape. */
export const TenantBody = z.object({
  id: z.uuid(),
  name: z.string(),
  slug: z.string(),
  timezone: z.string(),
  status: z.enum(['active', 'suspended']),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a tenant. */
export function presentTenant(t: Tenant): z.infer<typeof TenantBody> {
  return {
    id: t._id,
    name: t.name,
    slug: t.slug,
    timezone: t.timezone,
    status: t.status,
    created_at: iso(t.created_at) as string,
    updated_at: iso(t.updated_at) as string,
  };
}
