/** Schemas of the website chat widget (webchat) group. */
import { z } from 'zod';

/** `scheme://host[:port]` with nothing after it, compared in lower case. */
const Origin = z
  .string()
  .trim()
  .max(200)
  .regex(/^https?:\/\/[^\s/?#]+$/i, 'must be an origin like https://shop.example or http://localhost:3000 (no path)')
  .transform((o) => o.toLowerCase());

/** PUT /api/webchat/settings */
export const UpdateWebchatBody = z.strictObject({
  enabled: z.boolean(),
  allowed_origins: z.array(Origin).max(50).default([]).describe('Pages of these origins may run the widget; with enabled true, at least one'),
  welcome_text: z.string().trim().min(1).max(500).optional().describe('The greeting the panel opens with; absent: the default'),
  brand_color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'must be a #rrggbb colour')
    .nullable()
    .optional()
    .describe('The bubble and header colour; null or absent: the default'),
}).refine((b) => !b.enabled || b.allowed_origins.length > 0, { path: ['allowed_origins'], message: 'must name at least one origin when enabled is true' });

/** POST /api/webchat/sessions */
export const StartWebchatSessionBody = z.strictObject({
  tenant: z.string().trim().min(1).max(100).describe('The organization’s id or slug (the snippet’s data-tenant)'),
  visitor_token: z.string().max(2000).optional().describe('The token kept from an earlier session: a valid one resumes that visitor'),
});
