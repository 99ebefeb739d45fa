/** API keys: long-lived bearer credentials acting as their creator, optionally narrowed. */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored API key; the secret itself is never stored, only its SHA-256. */
export interface ApiKey extends TenantDoc {
  user_id: string;
  name: string;
  /** The first characters of the key, shown in lists so users can tell keys apart. */
  prefix: string;
  secret_hash: string;
  /** Narrowing of the creator's permissions; null means all of them. */
  permissions: string[] | null;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const schema = baseSchema<ApiKey>(
  {
    tenant_id: { type: String, required: true },
    user_id: { type: String, required: true },
    name: { type: String, required: true },
    prefix: { type: String, required: true },
    secret_hash: { type: String, required: true },
    permissions: { type: [String], default: null },
    expires_at: { type: Date, default: null },
    last_used_at: { type: Date, default: null },
    revoked_at: { type: Date, default: null },
  },
  'api_keys',
);
// Serves "my API keys".
schema.index({ tenant_id: 1, user_id: 1 });

/** The api_keys collection. */
export const ApiKeyModel = model<ApiKey>('ApiKey', schema);

/** Tenant-scoped access to API keys. */
export const apiKeys = tenantRepo(ApiKeyModel, 'API key');

/** The key with this id in any tenant (authentication, before the tenant is known). */
export const findApiKeyById = (id: string) => ApiKeyModel.findById(id).lean<ApiKey>().exec();

/** Records use without waiting on it. */
export const touchApiKey = (id: string, at: Date) => ApiKeyModel.updateOne({ _id: id }, { $set: { last_used_at: at } }).exec();
