/** Schemas of the WA Templates group: components in Meta's own shape, checked further by services/wa-template-rules.ts. */
import { z } from 'zod';
import { TEMPLATE_CATEGORIES, TEMPLATE_STATUSES } from '../../models/wa-template.js';
import { TemplateSyncBody, WaTemplateBody } from '../../presenters/wa-template.js';
import { Id, PageQuery, pageOf } from '../schemas/common.js';

const Name = z
  .string()
  .max(512, 'must be at most 512 characters')
  .regex(/^[a-z0-9_]+$/, 'must be lower-case letters, digits and underscores (Meta’s template name format), e.g. order_update');
const Language = z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a WhatsApp language code such as id, en or en_US');
const Example = z.string().min(1).max(1024);

const Header = z.strictObject({
  type: z.literal('HEADER'),
  format: z.enum(['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION']).default('TEXT'),
  text: z.string().min(1).max(60).optional().describe('TEXT headers: at most 60 characters, at most one variable {{1}}'),
  example: z
    .strictObject({
      header_text: z.array(Example).max(1).optional().describe('TEXT headers with {{1}}: its example value'),
      header_handle: z.array(z.string().min(1).max(4096)).max(1).optional().describe('IMAGE/VIDEO/DOCUMENT headers: a sample media handle from Meta’s resumable upload'),
    })
    .optional(),
});

const Body = z.strictObject({
  type: z.literal('BODY'),
  text: z.string().min(1).max(1024).describe('At most 1,024 characters; variables {{1}} to {{n}} without gaps, not at the very start or end'),
  example: z.strictObject({ body_text: z.array(z.array(Example).min(1).max(100)).min(1).max(1).describe('One row: an example value per variable, in order') }).optional(),
});

const Footer = z.strictObject({ type: z.literal('FOOTER'), text: z.string().min(1).max(60).describe('At most 60 characters, no variables') });

const ButtonText = z.string().min(1).max(25);

const Button = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('QUICK_REPLY'), text: ButtonText }),
  z.strictObject({
    type: z.literal('URL'),
    text: ButtonText,
    url: z.string().max(2000).regex(/^https?:\/\/\S+$/, 'must be an http(s) URL'),
    example: z.array(z.string().min(1).max(2000)).max(1).optional().describe('With a {{1}} at the end of url: the full example URL'),
  }),
  z.strictObject({ type: z.literal('PHONE_NUMBER'), text: ButtonText, phone_number: z.string().regex(/^\+?[0-9]{5,20}$/, 'must be a phone number with its country code, digits only') }),
  z.strictObject({ type: z.literal('COPY_CODE'), example: z.string().min(1).max(15).describe('An example coupon code, at most 15 characters') }),
  z.strictObject({ type: z.literal('OTP'), otp_type: z.enum(['COPY_CODE', 'ONE_TAP', 'ZERO_TAP']), text: ButtonText.optional() }),
]);

const Buttons = z.strictObject({
  type: z.literal('BUTTONS'),
  buttons: z.array(Button).min(1).max(50).describe('At most 10 buttons: at most 2 URL, 1 PHONE_NUMBER and 1 COPY_CODE; QUICK_REPLY buttons kept together'),
});

const Component = z.discriminatedUnion('type', [Header, Body, Footer, Buttons]);

/** POST /api/wa-templates */
export const CreateWaTemplateBody = z.strictObject({
  account_id: Id.nullable().optional().describe('The WhatsApp account to submit with; absent: the channel’s default account'),
  name: Name,
  language: Language,
  category: z.enum(TEMPLATE_CATEGORIES),
  allow_category_change: z.boolean().optional().describe('Let Meta assign another category instead of rejecting a mismatch'),
  components: z.array(Component).min(1).max(4).describe('Exactly one BODY; at most one HEADER, FOOTER and BUTTONS'),
});

/** POST /api/wa-templates/sync */
export const SyncWaTemplatesBody = z.strictObject({
  account_id: Id.nullable().optional().describe('The WhatsApp account whose WABA to read; absent: the channel’s default account'),
});

/** PATCH /api/wa-templates/{id}/header-media */
export const HeaderMediaBody = z.strictObject({
  header_media_url: z
    .string()
    .max(2048)
    .regex(/^https:\/\/\S+$/, 'must be an https:// URL Meta can fetch')
    .nullable()
    .describe('The media sends use for the IMAGE/VIDEO/DOCUMENT header when they give none; null clears it'),
});

/** GET /api/wa-templates */
export const ListWaTemplatesQuery = PageQuery.extend({
  status: z.enum(TEMPLATE_STATUSES).optional(),
  category: z.enum(TEMPLATE_CATEGORIES).optional(),
  language: Language.optional(),
  name: Name.optional().describe('Only templates with exactly this name (every language)'),
});

/** A page of templates. */
export const WaTemplatePage = pageOf(WaTemplateBody);

export { TemplateSyncBody, WaTemplateBody };
