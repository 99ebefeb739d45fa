/** Schemas of the SLA group. */
import { z } from 'zod';
import { SlaBreachBody, SlaPolicyBody } from '../../presenters/sla.js';
import { MAX_SLA_POLICIES } from '../../services/sla-policies.js';
import { Id, PageQuery, pageOf } from '../schemas/common.js';
import { Tag } from './conversations.schema.js';

const CHANNELS = ['whatsapp', 'messenger', 'instagram', 'email', 'webchat'] as const;

// A year of minutes: a longer target is a typo rather than a service level.
const Minutes = z.number().int().min(1).max(525_600);

const fields = {
  name: z.string().trim().min(1).max(100),
  description: z.string().trim().max(500),
  is_active: z.boolean(),
  priority: z.number().int().min(0).max(10_000).describe('Lower applies first when several policies match; ties go to the oldest'),
  first_response_minutes: Minutes.nullable().describe('Minutes from the conversation’s start to the first agent or AI reply; null for none'),
  resolution_minutes: Minutes.nullable().describe('Minutes from the conversation’s start to resolved or closed; null for none'),
  business_hours_only: z.boolean().describe('Count only working hours in the tenant’s time zone (the conversation’s division override if any)'),
  channels: z.array(z.enum(CHANNELS)).max(5).describe('Only these channels; empty or absent: all'),
  division_ids: z.array(Id).max(100).describe('Only conversations of these divisions; empty or absent: any'),
  tags: z.array(Tag).max(30).describe('Only conversations carrying one of these tags; empty or absent: any'),
};

const dedupe = <T>(list: T[]) => [...new Set(list)];

/** POST /api/sla-policies */
export const CreateSlaPolicyBody = z
  .strictObject({
    name: fields.name,
    description: fields.description.default(''),
    is_active: fields.is_active.default(true),
    priority: fields.priority.default(100),
    first_response_minutes: fields.first_response_minutes.default(null),
    resolution_minutes: fields.resolution_minutes.default(null),
    business_hours_only: fields.business_hours_only.default(false),
    channels: fields.channels.default([]).transform(dedupe),
    division_ids: fields.division_ids.default([]).transform(dedupe),
    tags: fields.tags.default([]).transform(dedupe),
  })
  .describe(`At most ${MAX_SLA_POLICIES} policies per organization; at least one of the two targets`);

/** PATCH /api/sla-policies/{id} */
export const UpdateSlaPolicyBody = z
  .strictObject({
    name: fields.name.optional(),
    description: fields.description.optional(),
    is_active: fields.is_active.optional(),
    priority: fields.priority.optional(),
    first_response_minutes: fields.first_response_minutes.optional(),
    resolution_minutes: fields.resolution_minutes.optional(),
    business_hours_only: fields.business_hours_only.optional(),
    channels: fields.channels.transform(dedupe).optional(),
    division_ids: fields.division_ids.transform(dedupe).optional(),
    tags: fields.tags.transform(dedupe).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'must change at least one field');

/** GET /api/sla-policies */
export const ListSlaPoliciesQuery = PageQuery;

/** GET /api/sla-policies/{id}/breaches */
export const ListSlaBreachesQuery = PageQuery.extend({
  target: z.enum(['first_response', 'resolution']).optional().describe('Only breaches of this target'),
});

/** A page of policies. */
export const SlaPolicyPage = pageOf(SlaPolicyBody);

/** A page of breaches. */
export const SlaBreachPage = pageOf(SlaBreachBody);
