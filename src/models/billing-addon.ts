/** Billing add-ons: extra units of a limit a tenant can attach to its subscription. Not tenant-scoped. */
import { model } from 'mongoose';
import { baseSchema } from './base.js';
import { catalogueRepo, type CatalogueDoc } from './catalogue-repo.js';

/** Which limit an add-on raises. */
export const ADDON_KINDS = ['extra_agents', 'extra_channel_accounts', 'extra_ai_replies'] as const;
export type AddonKind = (typeof ADDON_KINDS)[number];

/** A stored add-on. */
export interface BillingAddon extends CatalogueDoc {
  name: string;
  /** Lower-case slug, unique across the platform. */
  code: string;
  kind: AddonKind;
  /** How much one unit adds to its limit (e.g. 5 agents, 1,000 AI replies). */
  units: number;
  /** Price of one unit per interval, integer minor units of `currency`. */
  unit_price: number;
  currency: string;
  interval: 'monthly' | 'yearly';
  status: 'active' | 'archived';
}

const schema = baseSchema<BillingAddon>(
  {
    name: { type: String, required: true },
    code: { type: String, required: true },
    kind: { type: String, required: true, enum: ADDON_KINDS },
    units: { type: Number, required: true },
    unit_price: { type: Number, required: true },
    currency: { type: String, required: true },
    interval: { type: String, required: true, enum: ['monthly', 'yearly'] },
    status: { type: String, required: true, enum: ['active', 'archived'] },
  },
  'billing_addons',
);
// Serves findByCode; uniqueness is the claim.
schema.index({ code: 1 });
// Serves the lists, with or without the status filter.
schema.index({ status: 1, created_at: 1, _id: 1 });
schema.index({ created_at: 1, _id: 1 });

/** The billing_addons collection. */
export const BillingAddonModel = model<BillingAddon>('BillingAddon', schema);

/** Add-ons are coded by lower-case slugs. */
export const addonCodeKey = (code: string): string => code.toLowerCase();

/** Data access for add-ons. */
export const billingAddons = catalogueRepo<BillingAddon>(BillingAddonModel, 'Add-on', addonCodeKey);
