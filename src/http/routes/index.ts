/** Every API group, in contract order. Add a group here to mount it and document it. */
import type { RouteGroup } from '../mount.js';
import { agentRoutes } from './agents.js';
import { aiAgentRoutes } from './ai-agents.js';
import { aiAgentOperationsRoutes } from './ai-agent-operations.js';
import { analyticsRoutes } from './analytics.js';
import { activityLogsRoutes } from './activity-logs.js';
import { apiKeysRoutes } from './api-keys.js';
import { authRoutes } from './auth.js';
import { billingCatalogueAdminRoutes, billingCatalogueRoutes } from './billing-catalogue.js';
import { automationOpsRoutes } from './automation-ops.js';
import { autoAssignmentRoutes } from './auto-assignment.js';
import { automationRuleRoutes } from './automation-rules.js';
import { campaignRoutes } from './campaigns.js';
import { chatExpirationRoutes } from './chat-expiration.js';
import { contactRoutes } from './contacts.js';
import { conversationRoutes } from './conversations.js';
import { csatRoutes } from './csat.js';
import { divisionRoutes } from './divisions.js';
import { healthRoutes } from './health.js';
import { integrationRoutes } from './integrations.js';
import { metaIntegrationRoutes } from './integrations-meta.js';
import { mediaRoutes } from './media.js';
import { messageRoutes } from './messages.js';
import { notesRoutes } from './notes.js';
import { outgoingWebhookRoutes } from './outgoing-webhooks.js';
import { quickReplyRoutes } from './quick-replies.js';
import { rolesRoutes } from './roles.js';
import { scheduledMessageRoutes } from './scheduled-messages.js';
import { slaRoutes } from './sla.js';
import { superAdminRoutes } from './super-admin.js';
import { transfersRoutes } from './transfers.js';
import { waTemplateRoutes } from './wa-templates.js';
import { webchatRoutes } from './webchat.js';
import { webhookRoutes } from './webhooks.js';
import { workingHoursRoutes } from './working-hours.js';

/** The mounted groups. */
export const apiGroups: RouteGroup[] = [authRoutes, agentRoutes, conversationRoutes, messageRoutes, contactRoutes, notesRoutes, quickReplyRoutes, analyticsRoutes, mediaRoutes, divisionRoutes, transfersRoutes, scheduledMessageRoutes, csatRoutes, campaignRoutes, slaRoutes, activityLogsRoutes, rolesRoutes, apiKeysRoutes, healthRoutes, aiAgentOperationsRoutes, workingHoursRoutes, chatExpirationRoutes, integrationRoutes, metaIntegrationRoutes, waTemplateRoutes, outgoingWebhookRoutes, webchatRoutes, webhookRoutes, autoAssignmentRoutes, automationRuleRoutes, automationOpsRoutes, superAdminRoutes, billingCatalogueAdminRoutes, billingCatalogueRoutes, aiAgentRoutes];
