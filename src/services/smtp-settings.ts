/**
 * The rules for an e-mail account's outbound SMTP server when a tenant saves it (issue 8, abuse
 * limits): the host must not lead into our own network, and credentials must travel over TLS.
 * The same rules hold again at send time (channels/email/send.ts), since DNS can change later.
 */
import { appContext } from '../context.js';
import { FieldStateError } from '../errors.js';
import { OutboundTargetError, resolveOutboundTarget, type OutboundPolicy } from '../net/outbound-guard.js';

/** SMTP settings as a tenant sends them (see SmtpInput in integrations.schema.ts). */
export interface SmtpInputSettings {
  host: string;
  port: number;
  secure?: boolean | undefined;
  starttls?: boolean | undefined;
  user?: string | null | undefined;
  password?: string | null | undefined;
}

/** This server's outbound policy: OUTBOUND_ALLOWED_NETWORKS and OUTBOUND_TLS_CA_FILE. */
export function outboundPolicy(): OutboundPolicy {
  const { allowedNetworks, ca } = appContext().config.outbound;
  return { allowedNetworks, ca };
}

/**
 * Refuses, with a 422 naming the field, SMTP settings that would send credentials in plain text
 * or whose host is (or resolves to) a loopback, private, link-local or other non-public address
 * outside the allowed networks. A name that does not resolve now is accepted: the send resolves
 * and checks it again, and fails then if it still does not resolve.
 */
export async function checkSmtpSettings(smtp: SmtpInputSettings | null | undefined, policy: OutboundPolicy = outboundPolicy()): Promise<void> {
  if (!smtp) return;
  const secure = smtp.secure ?? smtp.port === 465;
  if (!secure && smtp.starttls === false && (smtp.user || smtp.password)) {
    throw FieldStateError(
      'settings.smtp.starttls',
      'must not be false with a user or password: credentials are only sent over TLS (keep STARTTLS, or use secure on port 465)',
      'tls_required',
    );
  }
  try {
    await resolveOutboundTarget(smtp.host, policy);
  } catch (err) {
    if (!(err instanceof OutboundTargetError)) throw err;
    if (err.reason === 'refused') throw FieldStateError('settings.smtp.host', err.message, 'outbound_target_refused');
  }
}
