/**
 * Every permission a role can hold, with what it allows. Names follow the product docs
 * (`<area>.view` reads, `<area>.manage` writes).
 */
export const PERMISSIONS = {
  'agents.view': 'See agents and their status',
  'agents.manage': 'Create, update and delete agents',
  'divisions.view': 'See divisions, their members and working hours',
  'divisions.manage': 'Create, update and delete divisions and their working hours',
  'roles.view': 'See roles and the permission catalogue',
  'roles.manage': 'Create, update and delete custom roles',
  'api_keys.manage': 'Create and revoke API keys',
  'activity_logs.view': 'Read the activity log',
  'settings.manage': 'Change tenant settings: time zone, global working hours',
  'conversations.view': 'See conversations in own divisions',
  'conversations.view_all': 'See every conversation of the tenant',
  'conversations.manage': 'Change conversation status, tags, bulk actions',
  'conversations.assign': 'Assign and unassign conversations',
  'conversations.takeover': 'Take over a conversation from another agent or an AI agent',
  'conversations.transfer': 'Transfer conversations to agents or divisions',
  'messages.send': 'Send messages to customers',
  'notes.manage': 'Write private notes',
  'contacts.view': 'See contacts',
  'contacts.manage': 'Edit contacts',
  'media.view': 'Download media',
  'media.upload': 'Upload media',
  'quick_replies.view': 'See quick replies',
  'quick_replies.manage': 'Manage quick replies',
  'analytics.view': 'See analytics dashboards',
  'csat.manage': 'Manage CSAT surveys',
  'sla.view': 'See SLA policies and breaches',
  'sla.manage': 'Manage SLA policies',
  'webhooks.manage': 'Manage outgoing webhooks',
  'campaigns.view': 'See campaigns',
  'campaigns.manage': 'Create and send campaigns',
  'integrations.view': 'See channel integrations',
  'integrations.manage': 'Connect and configure channel integrations',
  'templates.view': 'See WhatsApp templates',
  'templates.manage': 'Manage WhatsApp templates',
  'automation.view': 'See automation rules and runs',
  'automation.manage': 'Manage automation rules',
  'ai_agents.view': 'See AI agents',
  'ai_agents.manage': 'Manage AI agents and their knowledge',
  'billing.view': 'See subscription, usage and invoices',
  'billing.manage': 'Change subscription and payment methods',
} as const satisfies Record<string, string>;

/** A permission name. */
export type Permission = keyof typeof PERMISSIONS;

/** All permission names, in catalogue order. */
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

/** True when `name` is a known permission. */
export const isPermission = (name: string): name is Permission => Object.hasOwn(PERMISSIONS, name);

const SUPERVISOR_EXCLUDES = new Set<Permission>([
  'roles.manage',
  'api_keys.manage',
  'settings.manage',
  'billing.manage',
  'integrations.manage',
  'agents.manage',
]);

/** The built-in roles every tenant gets at registration; they cannot be deleted. */
export const BUILT_IN_ROLES: { name: 'admin' | 'supervisor' | 'agent'; description: string; permissions: Permission[] }[] = [
  { name: 'admin', description: 'Full access to the organization', permissions: ALL_PERMISSIONS },
  {
    name: 'supervisor',
    description: 'Watches every conversation, assigns, takes over and transfers',
    permissions: ALL_PERMISSIONS.filter((p) => !SUPERVISOR_EXCLUDES.has(p)),
  },
  {
    name: 'agent',
    description: 'Answers conversations in own divisions',
    permissions: [
      'agents.view',
      'divisions.view',
      'conversations.view',
      'conversations.manage',
      'messages.send',
      'notes.manage',
      'contacts.view',
      'contacts.manage',
      'media.view',
      'media.upload',
      'quick_replies.view',
      'templates.view',
      'sla.view',
    ],
  },
];
