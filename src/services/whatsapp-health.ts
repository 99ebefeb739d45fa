/**
 * A WhatsApp number's health as Meta sees it, read live from the Graph API with the account's
 * token: quality rating, messaging limit tier, throughput level and the health status of the
 * number and the entities above it (WABA, business, app), with when they were read.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/support/health-status
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/reference/whatsapp-business-account-phone-number
 */
import { presentWhatsAppHealth } from '../presenters/meta-profile.js';
import type { Acting } from './agents.js';
import { accountToken, findMetaAccount, findMetaAccountById } from './meta-accounts.js';
import { graph } from './meta-graph.js';

/** Read a number's health. */
export interface ReadWhatsAppHealth extends Acting {
  /** The account; the channel's default when absent. */
  accountId?: string | undefined;
}

/** Reads the number's health now. */
export async function readWhatsAppHealth(cmd: ReadWhatsAppHealth) {
  const account = cmd.accountId ? await findMetaAccountById(cmd.tenantId, 'whatsapp', cmd.accountId) : await findMetaAccount(cmd.tenantId, 'whatsapp', undefined);
  const answer = await graph(
    {
      path: `/${account.external_id}`,
      query: { fields: 'id,display_phone_number,verified_name,quality_rating,messaging_limit_tier,throughput,health_status' },
      token: accountToken(account),
    },
    { what: `read the health of WhatsApp number ${account.external_id}` },
  );
  return presentWhatsAppHealth(account, answer, new Date());
}
