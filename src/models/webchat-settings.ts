/**
 * A tenant's website chat widget settings: one document per tenant, `_id` =
 * naturalId('webchat-settings', tenant), so reading them (every widget session and socket
 * handshake) is an `_id` lookup. A PUT replaces the whole document (no read-merge-write), so it
 * needs no actor.
 */
import { model } from 'mongoose';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored widget configuration. */
export interface WebchatSettings extends TenantDoc {
  enabled: boolean;
  /** Origins (`scheme://host[:port]`, lower case) whose pages may embed the widget. */
  allowed_origins: string[];
  welcome_text: string;
  /** `#rrggbb`, or null for the widget's default. */
  brand_color: string | null;
}

const schema = baseSchema<WebchatSettings>(
  {
    tenant_id: { type: String, required: true },
    enabled: { type: Boolean, required: true },
    allowed_origins: { type: [String], default: [] },
    welcome_text: { type: String, default: '' },
    brand_color: { type: String, default: null },
  },
  'webchat_settings',
);

/** The webchat_settings collection. */
export const WebchatSettingsModel = model<WebchatSettings>('WebchatSettings', schema);

/** Tenant-scoped access to widget settings. */
export const webchatSettings = tenantRepo(WebchatSettingsModel, 'Webchat settings');

/** The id of a tenant's widget settings. */
export const webchatSettingsId = (tenantId: string): string => naturalId('webchat-settings', tenantId);

/** Stores a tenant's settings whole (created on the first PUT) and answers them as stored. */
export async function saveWebchatSettings(doc: Omit<WebchatSettings, '_id' | 'created_at' | 'updated_at'>): Promise<WebchatSettings> {
  const _id = webchatSettingsId(doc.tenant_id);
  const saved = await WebchatSettingsModel.findOneAndUpdate(
    { _id, tenant_id: doc.tenant_id },
    { $set: { enabled: doc.enabled, allowed_origins: doc.allowed_origins, welcome_text: doc.welcome_text, brand_color: doc.brand_color } },
    { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true },
  )
    .lean<WebchatSettings>()
    .exec();
  if (!saved) throw new Error('webchat settings upsert answered nothing');
  return saved;
}
