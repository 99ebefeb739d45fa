/** Every channel adapter, by name. */
import { emailAdapter } from './email/index.js';
import { instagramAdapter } from './instagram/index.js';
import { messengerAdapter } from './messenger/index.js';
import type { ChannelAdapter, ChannelName } from './types.js';
import { webchatAdapter } from './webchat/index.js';
import { whatsappAdapter } from './whatsapp/index.js';

const ADAPTERS: Record<ChannelName, ChannelAdapter> = {
  whatsapp: whatsappAdapter,
  messenger: messengerAdapter,
  instagram: instagramAdapter,
  email: emailAdapter,
  webchat: webchatAdapter,
};

/** The adapter of a channel. */
export const adapterFor = (channel: ChannelName): ChannelAdapter => ADAPTERS[channel];
