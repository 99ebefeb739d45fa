/** Schemas of the Auth group. */
import { z } from 'zod';
import { IANAZone } from 'luxon';
import { AgentBody } from '../../presenters/agent.js';
import { TenantBody } from '../../presenters/tenant.js';

const Email = z.email({ message: 'must be a valid e-mail address' }).max(254);
const Password = z.string().min(8, 'must be at least 8 characters').max(128);

/** POST /api/auth/register */
export const RegisterBody = z.strictObject({
  organization_name: z.string().trim().min(2).max(120),
  slug: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/, 'must be 3-40 lowercase letters, digits or dashes')
    .optional(),
  timezone: z
    .string()
    .refine((tz) => IANAZone.isValidZone(tz), 'must be an IANA time zone such as Asia/Jakarta')
    .optional(),
  name: z.string().trim().min(1).max(120),
  email: Email,
  password: Password,
});

/** POST /api/auth/login */
export const LoginBody = z.strictObject({
  email: Email,
  password: z.string().min(1).max(128),
  tenant: z.string().min(1).max(80).optional().describe('Tenant id or slug, when the e-mail is in several organizations'),
});

/** The session answer of register and login. */
export const SessionBody = z.object({
  token: z.string(),
  token_type: z.literal('Bearer'),
  expires_at: z.iso.datetime(),
  agent: AgentBody,
  tenant: TenantBody,
  permissions: z.array(z.string()),
});

/** GET /api/auth/me */
export const MeBody = z.object({
  agent: AgentBody,
  tenant: TenantBody,
  permissions: z.array(z.string()),
  via: z.enum(['jwt', 'api_key']),
  impersonator_id: z.uuid().nullable(),
});

/** GET /api/auth/token */
export const TokenBody = z.object({ token: z.string(), token_type: z.literal('Bearer'), expires_at: z.iso.datetime() });
