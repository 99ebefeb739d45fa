/**
 * An AI agent's product catalogue: CRUD and bulk import. A SKU names one product of the agent:
 * a product created with a SKU has `_id` = aiProductSkuId (a second create of it is a 409), and
 * an import updates the product holding a row's SKU and creates the others.
 *
 * An import is checked whole before anything is written: every row's problems are reported
 * (row number, field, message) and a file with any problem changes nothing. CSV columns: name,
 * sku, price (integer minor units), currency, stock (empty: not tracked), description, variants
 * ("name[:price[:stock]]" separated by "|").
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { ConflictError, isDuplicateKey, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { aiProducts, aiProductSkuId, upsertProducts, type AiProduct, type ProductVariant } from '../models/ai-product.js';
import { bumpKnowledgeVersion } from '../models/knowledge.js';
import type { Page } from '../models/repo.js';
import { liveAiAgent } from './ai-agent-children.js';
import { isCurrency } from './ai-money.js';
import type { Acting } from './agents.js';

/** Most products one AI agent may have, and rows one import may hold. */
export const MAX_PRODUCTS = 10_000;
export const MAX_IMPORT_ROWS = 5_000;

const Minor = z.number({ message: 'must be a number' }).int('must be an integer number of minor units (15000 for Rp15.000, 1250 for $12.50)').min(0, 'must not be negative').max(1e15);
const Stock = z.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(1e9);

/** A variant as given. */
export const VariantInput = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  sku: z.string().trim().min(1).max(64).nullable().default(null),
  price: Minor.nullable().default(null).describe('Minor units; null: the product’s price'),
  stock: Stock.nullable().default(null).describe('null: not tracked'),
});

/** The fields of a product as given (JSON body, import row). */
export const ProductFields = {
  name: z.string().trim().min(1, 'must not be empty').max(200),
  sku: z.string().trim().min(1, 'must not be empty').max(64).nullable(),
  description: z.string().max(5000),
  price: Minor.describe('Integer minor units of currency (IDR 15000 = Rp15.000)'),
  currency: z
    .string()
    .trim()
    .transform((c) => c.toUpperCase())
    .refine(isCurrency, 'must be an ISO 4217 currency code (IDR, USD...)'),
  stock: Stock.nullable().describe('null: not tracked'),
  variants: z.array(VariantInput).max(100),
};

/** A whole product as given. */
export const ProductInput = z.strictObject({
  ...ProductFields,
  sku: ProductFields.sku.default(null),
  description: ProductFields.description.default(''),
  currency: ProductFields.currency.default('IDR'),
  stock: ProductFields.stock.default(null),
  variants: ProductFields.variants.default([]),
});
export type ProductInput = z.output<typeof ProductInput>;

/** The agent's products by name. */
export async function listProducts(q: Acting & { aiAgentId: string; page: number; limit: number }): Promise<Page<AiProduct>> {
  await liveAiAgent(q.tenantId, q.aiAgentId);
  return aiProducts.page({ tenant_id: q.tenantId, ai_agent_id: q.aiAgentId }, { name: 1, _id: 1 }, q.page, q.limit);
}

async function findProduct(tenantId: string, aiAgentId: string, id: string): Promise<AiProduct> {
  await liveAiAgent(tenantId, aiAgentId);
  const p = await aiProducts.findOwnedOrNull(tenantId, id);
  if (!p || p.ai_agent_id !== aiAgentId) throw NotFoundError('Product');
  return p;
}

const skuTaken = (sku: string) => ConflictError(`Another product of this AI agent has SKU ${sku}`);

/** The agent's product holding `sku`, if any. */
async function productWithSku(tenantId: string, aiAgentId: string, sku: string): Promise<AiProduct | null> {
  const [found] = await aiProducts.find({ tenant_id: tenantId, ai_agent_id: aiAgentId, sku }, { sku: 1 }, 1);
  return found ?? null;
}

async function checkRoom(tenantId: string, aiAgentId: string, adding: number): Promise<void> {
  if ((await aiProducts.count({ tenant_id: tenantId, ai_agent_id: aiAgentId })) + adding > MAX_PRODUCTS) {
    throw ValidationError(`An AI agent has at most ${MAX_PRODUCTS} products`);
  }
}

/** Creates a product. */
export async function createProduct(cmd: Acting & { aiAgentId: string; product: ProductInput }): Promise<AiProduct> {
  await liveAiAgent(cmd.tenantId, cmd.aiAgentId);
  const { sku } = cmd.product;
  if (sku && (await productWithSku(cmd.tenantId, cmd.aiAgentId, sku))) throw skuTaken(sku);
  await checkRoom(cmd.tenantId, cmd.aiAgentId, 1);
  try {
    const p = await aiProducts.insert({ _id: sku ? aiProductSkuId(cmd.tenantId, cmd.aiAgentId, sku) : newId(), tenant_id: cmd.tenantId, ai_agent_id: cmd.aiAgentId, ...cmd.product });
    await bumpKnowledgeVersion(cmd.tenantId, cmd.aiAgentId);
    return p;
  } catch (err) {
    if (isDuplicateKey(err) && sku) throw skuTaken(sku);
    throw err;
  }
}

/** Changes the fields given of a product. */
export async function updateProduct(cmd: Acting & { aiAgentId: string; id: string; set: Partial<ProductInput> }): Promise<AiProduct> {
  const p = await findProduct(cmd.tenantId, cmd.aiAgentId, cmd.id);
  const sku = cmd.set.sku;
  if (sku && sku !== p.sku) {
    const holder = await productWithSku(cmd.tenantId, cmd.aiAgentId, sku);
    if (holder && holder._id !== p._id) throw skuTaken(sku);
  }
  const updated = await aiProducts.update(cmd.tenantId, p._id, cmd.set as Partial<AiProduct>);
  await bumpKnowledgeVersion(cmd.tenantId, cmd.aiAgentId);
  return updated;
}

/** Deletes a product. */
export async function deleteProduct(cmd: Acting & { aiAgentId: string; id: string }): Promise<AiProduct> {
  const p = await findProduct(cmd.tenantId, cmd.aiAgentId, cmd.id);
  await aiProducts.remove(cmd.tenantId, p._id);
  await bumpKnowledgeVersion(cmd.tenantId, cmd.aiAgentId);
  return p;
}

/** One problem of an import row (rows count from 1; a CSV's header is not a row). */
export interface RowIssue {
  row: number;
  field: string;
  message: string;
}

/** What an import did. */
export interface ImportResult {
  created: number;
  updated: number;
  rows: { row: number; id: string; sku: string | null; action: 'created' | 'updated' }[];
}

// CSV text columns -> the typed fields they become.
function rowOfCsv(record: Record<string, string>): Record<string, unknown> {
  const text = (k: string) => (record[k] ?? '').trim();
  const number = (k: string) => (text(k) === '' ? null : /^-?\d+(\.\d+)?$/.test(text(k)) ? Number(text(k)) : text(k));
  const row: Record<string, unknown> = { name: text('name'), sku: text('sku') || null, description: text('description'), price: number('price') ?? undefined, stock: number('stock') };
  if (text('currency')) row.currency = text('currency');
  if (text('variants')) {
    row.variants = text('variants')
      .split('|')
      .map((v) => v.trim())
      .filter(Boolean)
      .map((v) => {
        const [name, price, stock] = v.split(':').map((x) => x.trim());
        const num = (x: string | undefined) => (x === undefined || x === '' ? null : /^-?\d+(\.\d+)?$/.test(x) ? Number(x) : x);
        return { name, price: num(price), stock: num(stock) };
      });
  }
  const unknown = Object.keys(record).filter((k) => !CSV_COLUMNS.has(k));
  if (unknown.length > 0) row.__unknown = unknown;
  return row;
}

const CSV_COLUMNS = new Set(['name', 'sku', 'price', 'currency', 'stock', 'description', 'variants']);

/** The rows of a CSV import, or the reason it cannot be read. */
export function csvRows(csv: string): Record<string, unknown>[] {
  let records: Record<string, string>[];
  try {
    records = parseCsv(csv, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, bom: true, trim: false }) as Record<string, string>[];
  } catch (err) {
    throw ValidationError(`The CSV cannot be read: ${(err as Error).message}`);
  }
  return records.map(rowOfCsv);
}

/**
 * Imports products: every row is checked first (fields, SKUs repeated in the file) and any
 * problem answers 400 with the full report, writing nothing; otherwise rows whose SKU the agent
 * has update that product, the others are created.
 */
export async function importProducts(cmd: Acting & { aiAgentId: string; rows: unknown[] }): Promise<ImportResult> {
  await liveAiAgent(cmd.tenantId, cmd.aiAgentId);
  if (cmd.rows.length === 0) throw ValidationError('The import holds no rows');
  if (cmd.rows.length > MAX_IMPORT_ROWS) throw ValidationError(`An import holds at most ${MAX_IMPORT_ROWS} rows`);
  const issues: RowIssue[] = [];
  const valid: { row: number; product: ProductInput }[] = [];
  const skus = new Map<string, number>();
  cmd.rows.forEach((raw, i) => {
    const row = i + 1;
    const unknown = (raw as { __unknown?: string[] } | null)?.__unknown;
    if (unknown) issues.push({ row, field: unknown.join(', '), message: `unknown column (the columns are ${[...CSV_COLUMNS].join(', ')})` });
    const { __unknown: _ignored, ...fields } = (raw ?? {}) as Record<string, unknown>;
    const parsed = ProductInput.safeParse(unknown ? fields : raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push({ row, field: issue.path.join('.') || '(row)', message: issue.message });
      return;
    }
    const sku = parsed.data.sku;
    if (sku) {
      const first = skus.get(sku);
      if (first !== undefined) issues.push({ row, field: 'sku', message: `repeats the SKU of row ${first}` });
      else skus.set(sku, row);
    }
    valid.push({ row, product: parsed.data });
  });
  if (issues.length > 0) throw ValidationError(`${new Set(issues.map((x) => x.row)).size} of ${cmd.rows.length} rows have problems; nothing was imported`, issues);

  // Products already holding the file's SKUs are updated in place.
  const existing = await aiProducts.find({ tenant_id: cmd.tenantId, ai_agent_id: cmd.aiAgentId, sku: { $in: valid.flatMap((v) => (v.product.sku ? [v.product.sku] : [])) } });
  const bySku = new Map(existing.map((p) => [p.sku as string, p]));
  const planned = valid.map((v) => {
    const held = v.product.sku ? bySku.get(v.product.sku) : undefined;
    const id = held?._id ?? (v.product.sku ? aiProductSkuId(cmd.tenantId, cmd.aiAgentId, v.product.sku) : newId());
    return { row: v.row, id, action: held ? ('updated' as const) : ('created' as const), product: v.product };
  });
  await checkRoom(cmd.tenantId, cmd.aiAgentId, planned.filter((p) => p.action === 'created').length);
  await upsertProducts(cmd.tenantId, cmd.aiAgentId, planned.map((p) => ({ _id: p.id, ...p.product, variants: p.product.variants as ProductVariant[] })));
  await bumpKnowledgeVersion(cmd.tenantId, cmd.aiAgentId);
  return {
    created: planned.filter((p) => p.action === 'created').length,
    updated: planned.filter((p) => p.action === 'updated').length,
    rows: planned.map((p) => ({ row: p.row, id: p.id, sku: p.product.sku, action: p.action })),
  };
}

/** Removes an agent's whole catalogue (the agent is being deleted). */
export async function removeAgentProducts(tenantId: string, aiAgentId: string): Promise<void> {
  await aiProducts.removeMany({ tenant_id: tenantId, ai_agent_id: aiAgentId });
  await bumpKnowledgeVersion(tenantId, aiAgentId);
}
