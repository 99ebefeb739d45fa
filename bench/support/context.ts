/** What every section of a run shares. */
import { randomInt } from 'node:crypto';
import type mongoose from 'mongoose';
import type { BenchTenant } from './api.js';
import type { BenchProcess } from './child.js';
import type { ServerEnvironment } from './server-process.js';
import type { Settings } from './settings.js';
import type { SummaryRow } from './summary.js';
import type { Offered } from './arrivals.js';
import { postWebhook, textWebhook, wamid } from './whatsapp.js';

/** A run in progress. */
export interface BenchContext {
  settings: Settings;
  env: ServerEnvironment;
  /** The run's database through the raw driver (baselines, seeding). */
  db: mongoose.mongo.Db;
  tenant: BenchTenant;
  /** The first server process. */
  server: BenchProcess;
  /** The throughput baseline: raw single-document inserts per second on this database (final once the run ends). */
  baseline: { rawInsertsPerSecond: number };
  /** The summary rows so far; a function is a row whose baseline is known only at the end. */
  rows: (SummaryRow | (() => SummaryRow))[];
}

const runTag = String(randomInt(1000, 9999));
let customers = 0;

/** A phone number no customer of this run has written from yet. */
export const newCustomer = () => `628${runTag}${String(++customers).padStart(7, '0')}`;

/** A customer's text message posted to `url`: keyed by its provider id (as its message.created carries it), with its signed bytes. */
export function customerMessage(ctx: BenchContext, url: string, from: string): Offered & { body: string } {
  const id = wamid();
  const body = textWebhook(ctx.tenant.phoneNumberId, from, id, `Halo, pesanan saya ${id.slice(-8)} belum sampai`);
  return { key: id, body, send: () => postWebhook(url, body, ctx.env.appSecret) };
}
