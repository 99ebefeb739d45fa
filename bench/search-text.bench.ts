/**
 * Contact search before and after the folded search copy (src/models/search-text.ts), on one
 * tenant of 5,000 and 20,000 contacts of which one in five matches, next to a raw indexed find
 * returning as many documents. Each line is one list call as the API makes it: the page of 20
 * and the count, median of 5 (one run when slower than 3 s). Run with
 * `bash scripts/with-services.sh npx tsx bench/search-text.bench.ts` (SEARCH_BENCH_SIZES=5000,20000).
 */
import mongoose from 'mongoose';
import { connectDatabase } from '../src/db.js';
import { newId } from '../src/ids.js';
import { CONTACT_SEARCHED, ContactModel, contacts, type Contact } from '../src/models/contact.js';
import { collectionOf } from '../src/models/driver.js';
import type { Scoped } from '../src/models/repo.js';
import { backfillSearchText, resetSearchTextBackfill, searchTextOf } from '../src/models/search-text.js';
import { listContacts } from '../src/services/contacts.js';
import { containsText } from '../src/services/text-match.js';

const { MONGODB_URI } = process.env;
if (!MONGODB_URI) throw new Error('MONGODB_URI must be set (scripts/with-services.sh starts a throwaway one)');
const sizes = (process.env.SEARCH_BENCH_SIZES ?? '5000,20000').split(',').map(Number);
const uri = new URL(MONGODB_URI);
uri.pathname = `/omnistream_search_bench_${Date.now().toString(36)}`;
await connectDatabase(uri.toString());

const RUNS = 5;
const ORDER = { created_at: -1, _id: -1 } as const;

// A call slower than this is measured once: the case-insensitive lines take minutes at 20,000.
const SLOW_MS = 3000;

/** Median milliseconds of `RUNS` calls (one when it is slow), and what the last answered. */
async function measure(call: () => Promise<{ total: number }>): Promise<{ ms: number; total: number; runs: number }> {
  const times: number[] = [];
  let total = 0;
  for (let i = 0; i < RUNS && !(times[0] !== undefined && times[0] > SLOW_MS); i++) {
    const started = performance.now();
    total = (await call()).total;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, total, runs: times.length };
}

/** The contact list's filter before the copy: a case-insensitive regex per field. */
function regexFilter(tenantId: string, q: string): Scoped {
  const text = containsText(q);
  return { tenant_id: tenantId, $or: [{ name: text }, { phone: text }, { email: text }, { username: text }] };
}

/** `n` contacts of one tenant, every fifth a Santoso on Instagram; with or without the copy. */
function contactsOf(tenantId: string, n: number, withCopy: boolean): Contact[] {
  const base = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const match = i % 5 === 0;
    const doc: Contact = {
      _id: newId(),
      tenant_id: tenantId,
      channel: match ? 'instagram' : 'whatsapp',
      external_id: `ext-${i}`,
      identities: [],
      name: match ? `Budi Santoso ${i}` : `Andi Wijaya ${i}`,
      phone: `62812${String(i).padStart(7, '0')}`,
      email: `pelanggan${i}@example.co.id`,
      username: null,
      attributes: {},
      tags: [],
      last_inbound_at: null,
      created_at: new Date(base - i * 1000),
      updated_at: new Date(base - i * 1000),
    };
    return withCopy ? { ...doc, search_text: searchTextOf<Contact>(doc, CONTACT_SEARCHED) } : doc;
  });
}

const line = (label: string, r: { ms: number; total: number; runs: number }) =>
  console.log(`  ${label.padEnd(76)} ${r.ms.toFixed(0).padStart(7)} ms  (${r.total} matches${r.runs === 1 ? ', 1 run' : ''})`);

console.log(`Contact search, one tenant, 1 in 5 matching; page of 20 + count, median of ${RUNS} (1 run above ${SLOW_MS} ms)`);
for (const n of sizes) {
  const tenantId = newId();
  const legacy = contactsOf(tenantId, n, false);
  for (let i = 0; i < legacy.length; i += 1000) await collectionOf(ContactModel).insertMany(legacy.slice(i, i + 1000) as never[]);
  const page = (filter: Scoped) => contacts.page(filter, ORDER, 1, 20);
  const list = (q: string) => listContacts({ tenantId, q, page: 1, limit: 20 });
  console.log(`\n${n} contacts`);
  line('before: name $regex santoso, $options i', await measure(() => page({ tenant_id: tenantId, name: containsText('santoso') })));
  line('before: name $regex [sS][aA][nN][tT][oO][sS][oO]', await measure(() => page({ tenant_id: tenantId, name: { $regex: '[sS][aA][nN][tT][oO][sS][oO]' } })));
  line('before: name $regex Santoso (case-sensitive literal)', await measure(() => page({ tenant_id: tenantId, name: { $regex: 'Santoso' } })));
  line('before: the list endpoint (name/phone/email/username, $options i)', await measure(() => page(regexFilter(tenantId, 'santoso'))));
  line('during backfill, no document filled yet (fallback for all)', await measure(() => list('santoso')));

  await resetSearchTextBackfill(ContactModel as never);
  const started = performance.now();
  const filled = await backfillSearchText(ContactModel, CONTACT_SEARCHED, { batch: 500, pauseMs: 0, stopped: () => false, log: () => undefined });
  console.log(`  backfill: ${filled} documents filled in ${((performance.now() - started) / 1000).toFixed(1)} s (500 a batch, no pause)`);

  line('after: the list endpoint, q=santoso (search_text literal, fallback idle)', await measure(() => list('santoso')));
  line('after: the list endpoint, q=SANTOSO', await measure(() => list('SANTOSO')));
  line('after: the list endpoint, q=+62 812-0000 (digits too)', await measure(() => list('+62 812-0000')));
  line('after: search_text literal alone (no fallback branch)', await measure(() => page({ tenant_id: tenantId, search_text: { $regex: 'santoso' } })));
  line('raw indexed find, same number of documents: {tenant_id, channel: instagram}', await measure(() => page({ tenant_id: tenantId, channel: 'instagram' })));

  const fresh = contactsOf(tenantId, n, true);
  const tenant2 = newId();
  for (const d of fresh) d.tenant_id = tenant2;
  for (let i = 0; i < fresh.length; i += 1000) await collectionOf(ContactModel).insertMany(fresh.slice(i, i + 1000) as never[]);
  line('after: written with the copy from the start (another tenant, same data)', await measure(() => listContacts({ tenantId: tenant2, q: 'santoso', page: 1, limit: 20 })));
}

await mongoose.connection.db?.dropDatabase();
await mongoose.disconnect();
