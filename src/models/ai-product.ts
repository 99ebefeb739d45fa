/**
 * The product catalogue an AI agent answers price, stock and variant questions from. Prices are
 * integer minor units with an ISO 4217 currency (IDR has none below the rupiah: 15000 = Rp15.000).
 * A SKU is unique per agent: `_id` is naturalId('ai-product', tenant, agent, sku) when a SKU is
 * given, so a bulk import upserts by it and a duplicate create fails with 11000.
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** One variant (size, colour...) with its own price and stock when they differ. */
export interface ProductVariant {
  name: string;
  sku: string | null;
  /** Minor units; null = the product's price. */
  price: number | null;
  /** null = not tracked. */
  stock: number | null;
}

/** A product of an AI agent's catalogue. */
export interface AiProduct extends TenantDoc {
  ai_agent_id: string;
  name: string;
  sku: string | null;
  description: string;
  /** Minor units of `currency`. */
  price: number;
  currency: string;
  /** null = not tracked. */
  stock: number | null;
  variants: ProductVariant[];
}

const variantSchema = new Schema<ProductVariant>(
  {
    name: { type: String, required: true },
    sku: { type: String, default: null },
    price: { type: Number, default: null },
    stock: { type: Number, default: null },
  },
  { _id: false },
);

const schema = baseSchema<AiProduct>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    name: { type: String, required: true },
    sku: { type: String, default: null },
    description: { type: String, default: '' },
    price: { type: Number, required: true },
    currency: { type: String, required: true },
    stock: { type: Number, default: null },
    variants: { type: [variantSchema], default: [] },
  },
  'ai_products',
);
// The list (by name) and the index rebuild.
schema.index({ tenant_id: 1, ai_agent_id: 1, name: 1, _id: 1 });
// A SKU's product (creates, updates and imports check it).
schema.index({ tenant_id: 1, ai_agent_id: 1, sku: 1 });

export const AiProductModel = model<AiProduct>('AiProduct', schema);
export const aiProducts = tenantRepo(AiProductModel, 'Product');

/** The `_id` of the product with `sku` in an agent's catalogue. */
export const aiProductSkuId = (tenantId: string, aiAgentId: string, sku: string): string => naturalId('ai-product', tenantId, aiAgentId, sku);

/** A product's fields as an import writes them. */
export type ProductWrite = Omit<AiProduct, 'tenant_id' | 'ai_agent_id' | 'created_at' | 'updated_at'>;

/** Writes an import's products in one bulk write, each replacing its fields by `_id` (created when absent). */
export async function upsertProducts(tenantId: string, aiAgentId: string, products: ProductWrite[]): Promise<void> {
  const now = new Date();
  const ops = products.map(({ _id, ...fields }) => ({
    updateOne: {
      filter: { _id, tenant_id: tenantId, ai_agent_id: aiAgentId },
      update: { $set: { ...fields, updated_at: now }, $setOnInsert: { created_at: now } },
      upsert: true,
    },
  }));
  for (let i = 0; i < ops.length; i += 1000) await collectionOf(AiProductModel).bulkWrite(ops.slice(i, i + 1000) as never, { ordered: true });
}
