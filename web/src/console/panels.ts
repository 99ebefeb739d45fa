/**
 * The console's panels, one entry each in the side rail. A later group (automation, AI agents,
 * analytics, the supervisor view) plugs in by giving its entry a `component`; `permission`
 * hides it from callers who could not use it. Entries without a component show as coming soon.
 */
import type { ComponentType } from 'preact';
import type { StringKey } from '../i18n';
import type { Realtime } from '../realtime';
import type { Agent } from '../types';
import { InboxPanel } from './inbox-panel';
import { SupervisorPanel } from './supervisor-panel';

/** What every panel is given. */
export interface PanelProps {
  me: Agent;
  permissions: Set<string>;
  realtime: Realtime;
  /** True once the socket is set up (lists load then, so no event falls between). */
  ready: boolean;
}

/** One entry of the rail. */
export interface Panel {
  id: string;
  label: StringKey;
  /** A letter or symbol for the rail. */
  icon: string;
  permission?: string;
  component?: ComponentType<PanelProps>;
}

/** Every panel, in rail order. */
export const PANELS: Panel[] = [
  { id: 'inbox', label: 'inbox', icon: '✉', permission: 'conversations.view', component: InboxPanel },
  { id: 'supervisor', label: 'supervisor', icon: '◉', permission: 'conversations.takeover', component: SupervisorPanel },
  { id: 'automation', label: 'automation', icon: '⚙' },
  { id: 'ai-agents', label: 'aiAgents', icon: '✦' },
  { id: 'analytics', label: 'analytics', icon: '▤' },
];
