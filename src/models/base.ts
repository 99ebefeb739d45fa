/** Shared schema pieces: string UUID `_id`, `created_at`/`updated_at`, no `__v`. */
import { Schema, type SchemaDefinition } from 'mongoose';

/** Fields every stored document has. */
export interface BaseDoc {
  _id: string;
  created_at: Date;
  updated_at: Date;
}

/** Fields every tenant-owned document has. */
export interface TenantDoc extends BaseDoc {
  tenant_id: string;
}

/** A schema with our id, timestamp and versioning conventions. */
export function baseSchema<T>(definition: SchemaDefinition, collection: string): Schema<T> {
  return new Schema<T>({ _id: { type: String, required: true }, ...definition } as unknown as SchemaDefinition<T>, {
    collection,
    versionKey: false,
    timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' },
    minimize: false,
  });
}
