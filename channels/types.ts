/**
 * The contract between OmniStream and a messaging channel.
 *
 * How to add a channel: create `channels/<name>/` with `verify.ts` (authenticate a webhook from
 * its raw bytes, and read the receiving accounts it names with bounded, linear-time code: both
 * run on unauthenticated bytes), `parse.ts` (verified raw body -> InboundEvent[], never throwing
 * on unknown shapes: unknown parts become `unsupported` events or are skipped), `send.ts` (OutboundMessage -> the
 * provider's API, answering the provider's message id) and `index.ts` exporting a
 * `ChannelAdapter`. Provider base URLs and secrets come from ChannelCredentials/configuration,
 * never from constants, so tests can point them at a local fake server.
 *
 * Provider ids (message, sender, account) are strings taken from the raw text: page-scoped and
 * Instagram ids exceed 2^53 and would be corrupted as JS numbers.
 */

import type { OutboundPolicy } from '../src/net/outbound-guard.js';

/** The channels OmniStream speaks. */
export type ChannelName = 'whatsapp' | 'messenger' | 'instagram' | 'email' | 'webchat';

/** Headers of a webhook request, lower-cased names. */
export type WebhookHeaders = Record<string, string | undefined>;

/** What a webhook verification concluded. */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Who wrote to us, as the provider identifies them. */
export interface InboundSender {
  /** The provider's id for this person on this account: wa_id, WhatsApp business-scoped user id, PSID, IGSID, or e-mail address. */
  externalId: string;
  /** E.164 digits when the provider gives a phone number (WhatsApp `wa_id`/`from`). */
  phone?: string;
  /** WhatsApp business-scoped user id, when given besides or instead of the phone. */
  bsuid?: string;
  name?: string;
  username?: string;
  email?: string;
}

/** A media attachment as the provider describes it. */
export interface InboundMedia {
  /** WhatsApp media id, to be fetched from the Graph API. */
  providerMediaId?: string;
  /** A direct URL (Messenger/Instagram attachments, CDN links). */
  url?: string;
  mimeType?: string;
  filename?: string;
  caption?: string;
  sha256?: string;
  /**
   * E-mail attachments arrive inline: their bytes, which the inbound pipeline stores as a media
   * document before the message, so they never travel inside a message, event or socket frame.
   */
  bytes?: Buffer;
  size?: number;
}

/** The kinds of inbound message content. */
export type InboundContentType =
  | 'text'
  | 'image'
  | 'audio'
  | 'video'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contacts'
  | 'interactive'
  | 'button'
  | 'reaction'
  | 'postback'
  | 'story_mention'
  | 'story_reply'
  | 'email'
  | 'unsupported';

/** Fields specific to e-mail. */
export interface InboundEmail {
  /** RFC 5322 Message-ID (without angle brackets), used for threading. */
  messageId: string;
  inReplyTo?: string;
  references: string[];
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  text?: string;
  html?: string;
  /** True when text or html was longer than a message keeps and was cut. */
  truncated?: boolean;
}

/** One message a customer (or, for echoes, the business from another tool) sent. */
export interface InboundMessage {
  kind: 'message';
  channel: ChannelName;
  /** The receiving account: WhatsApp phone_number_id, Page id, Instagram account id, inbound address. */
  accountExternalId: string;
  /** The provider's message id (WhatsApp wamid, Messenger mid, e-mail provider id). */
  externalId: string;
  sender: InboundSender;
  /** RFC 3339, from the provider's timestamp. */
  timestamp: string;
  type: InboundContentType;
  text?: string;
  media?: InboundMedia[];
  location?: { latitude: number; longitude: number; name?: string; address?: string; url?: string };
  contacts?: unknown[];
  /** Button/list reply, quick reply, template button or postback: what was chosen. */
  choice?: { id?: string; title?: string; payload?: string };
  reaction?: { messageExternalId: string; emoji: string | null };
  /** The message this one answers, when the provider says so. */
  replyToExternalId?: string;
  /** Messenger/Instagram echo: sent by the business (us or another tool), not by the customer. */
  isEcho?: boolean;
  /** For echoes: the customer the business wrote to. */
  recipientExternalId?: string;
  email?: InboundEmail;
  /** Why a message is `unsupported`, for the log and the agent. */
  unsupportedReason?: string;
}

/** A delivery status of a message we sent. */
export interface InboundStatus {
  kind: 'status';
  channel: ChannelName;
  accountExternalId: string;
  /** The message the status is about; absent for watermark reads. */
  messageExternalId?: string;
  /** Messenger delivery/read watermarks: every message sent up to this time. */
  watermark?: string;
  /** The customer's id (WhatsApp recipient_id, Messenger sender). */
  recipientExternalId?: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  timestamp: string;
  errors?: { code: number | string; title?: string; message?: string; details?: string }[];
}

/**
 * A WhatsApp message template's review status changed (webhook field
 * `message_template_status_update`): approved, rejected with a reason, paused, disabled...
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
 */
export interface InboundTemplateStatus {
  kind: 'template_status';
  channel: 'whatsapp';
  /** The WhatsApp Business Account (entry.id): the template's home, and how the tenant is found. */
  accountExternalId: string;
  /** Meta's template id. */
  templateExternalId?: string;
  name: string;
  language: string;
  /** Meta's `event`: APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED, REINSTATED, ... */
  event: string;
  /** Meta's `reason` (INVALID_FORMAT, ...), else `other_info.description`; absent for NONE. */
  reason?: string;
  /** When Meta reported it (entry.time), RFC 3339. */
  timestamp: string;
}

/** Everything a webhook can carry that we act on. */
export type InboundEvent = InboundMessage | InboundStatus | InboundTemplateStatus;

/** An outbound message, already allowed by the shared send path. */
export type OutboundContent =
  | { type: 'text'; text: string; previewUrl?: boolean }
  | { type: 'media'; mediaType: 'image' | 'audio' | 'video' | 'document' | 'sticker'; link?: string; providerMediaId?: string; caption?: string; filename?: string }
  | { type: 'template'; name: string; language: string; components?: unknown[] }
  | { type: 'interactive'; interactive: Record<string, unknown> }
  | { type: 'reaction'; messageExternalId: string; emoji: string }
  | { type: 'quick_replies'; text: string; replies: { title: string; payload: string }[] }
  | { type: 'email'; subject: string; text?: string; html?: string; inReplyTo?: string; references?: string[] };

/** What to send, to whom, through which account. */
export interface OutboundMessage {
  /** The customer's id on the channel (wa_id/phone, PSID, IGSID, e-mail address). */
  to: string;
  content: OutboundContent;
  /** Quote/reply to this provider message id, where the channel supports it. */
  replyToExternalId?: string;
}

/** The account credentials and endpoints a send uses. */
export interface ChannelCredentials {
  /** The account's provider id (phone_number_id, page id, IG account id, sending address). */
  accountExternalId: string;
  accessToken?: string;
  /** Graph API base, e.g. https://graph.facebook.com, from META_GRAPH_URL. */
  graphUrl: string;
  /** e.g. v21.0, from META_GRAPH_VERSION. */
  graphVersion: string;
  /** Channel-specific settings (SMTP/provider API settings for e-mail, etc.). */
  settings?: Record<string, unknown>;
  /**
   * Where a tenant-configured host (the e-mail account's SMTP server) may lead, from
   * OUTBOUND_ALLOWED_NETWORKS / OUTBOUND_TLS_CA_FILE; absent = public addresses only, Node's CAs.
   */
  outbound?: OutboundPolicy;
}

/** What the provider answered to a send. */
export interface SendResult {
  externalId: string;
}

/** A provider refused a send; `retryable` says whether trying again later can help. */
export class ChannelSendError extends Error {
  constructor(
    message: string,
    readonly providerCode: string | number | null,
    readonly retryable: boolean,
    readonly httpStatus: number | null,
  ) {
    super(message);
    this.name = 'ChannelSendError';
  }
}

/** One channel's adapter. */
export interface ChannelAdapter {
  name: ChannelName;
  /**
   * The provider accounts a webhook names, read from its raw bytes before it is verified: only
   * what choosing the secrets to try needs, with bounded, linear-time code (no full parse).
   * Throws an Error for a body that cannot be routed (the route answers 400).
   */
  routedAccounts(rawBody: Buffer, headers: WebhookHeaders): Promise<string[]>;
  /** Authenticates a webhook from its raw bytes (before any parsing beyond routedAccounts). */
  verify(rawBody: Buffer, headers: WebhookHeaders, secret: string): VerifyResult;
  /** Turns a verified webhook body into events; unknown parts never throw (MIME parsing is async). */
  parse(rawBody: Buffer, headers: WebhookHeaders): InboundEvent[] | Promise<InboundEvent[]>;
  /** Sends through the provider's API. */
  send(credentials: ChannelCredentials, message: OutboundMessage): Promise<SendResult>;
}
