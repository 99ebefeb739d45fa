/** Working Hours: global hours, division overrides, holidays, the tenant time zone, public status. */
import {
  DivisionWorkingHoursBody,
  HolidaysBody,
  presentWorkingHoursStatus,
  TimezoneSettingBody,
  WorkingHoursListBody,
  WorkingHoursStatusBody,
} from '../../presenters/working-hours.js';
import {
  checkWorkingHours,
  getDivisionHours,
  getTimezone,
  listGlobalHours,
  listHolidays,
  removeDivisionHours,
  replaceHolidays,
  updateTimezone,
  upsertDivisionHours,
  upsertGlobalHours,
} from '../../services/working-hours.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import { ReplaceHolidaysBody, StatusQuery, TimezoneBody, UpsertWorkingHoursBody } from './working-hours.schema.js';

const UPSERT_RULES =
  'For every day_of_week present in `days`, that day’s ranges are replaced by the given ones; days not mentioned stay. ' +
  'Several ranges on one day make a split shift; overlapping ranges on one day are refused. An end_time before start_time ' +
  'runs past midnight (22:00-06:00); 24:00 is the end of the day; start_time equal to end_time is refused. ' +
  'is_active false closes that range. Times are HH:MM (HH:MM:SS accepted) in the tenant time zone. Answers the whole schedule.';

/** The Working Hours group. */
export const workingHoursRoutes: RouteGroup = {
  group: 'Working Hours',
  routes: [
    route({
      method: 'get',
      path: '/api/working-hours',
      summary: 'List global working hours',
      description: 'List global (non-division) working hours for all days, ordered by day then start time.',
      access: 'settings.manage',
      response: WorkingHoursListBody,
      handler: ({ principal }) => listGlobalHours({ tenantId: principal.tenantId, actor: principal }),
    }),
    route({
      method: 'put',
      path: '/api/working-hours',
      summary: 'Upsert global working hours',
      description: UPSERT_RULES,
      access: 'settings.manage',
      body: UpsertWorkingHoursBody,
      response: WorkingHoursListBody,
      audit: { action: 'working_hours.updated', resource: 'working_hours', target: () => null },
      handler: ({ principal, body }) => upsertGlobalHours({ tenantId: principal.tenantId, actor: principal, days: body.days }),
    }),
    route({
      method: 'get',
      path: '/api/working-hours/divisions/{id}',
      summary: 'List division working hours',
      description: 'Returns the division override if one exists, otherwise the global hours with `is_override: false`.',
      access: 'divisions.view',
      params: IdParams,
      response: DivisionWorkingHoursBody,
      handler: ({ principal, params }) => getDivisionHours({ tenantId: principal.tenantId, actor: principal, divisionId: params.id }),
    }),
    route({
      method: 'put',
      path: '/api/working-hours/divisions/{id}',
      summary: 'Upsert division working hours override',
      description: `Creates the override on first use, starting from a copy of the global hours. ${UPSERT_RULES}`,
      access: 'divisions.manage',
      params: IdParams,
      body: UpsertWorkingHoursBody,
      response: WorkingHoursListBody,
      audit: { action: 'working_hours.override_updated', resource: 'working_hours' },
      handler: ({ principal, params, body }) =>
        upsertDivisionHours({ tenantId: principal.tenantId, actor: principal, divisionId: params.id, days: body.days }),
    }),
    route({
      method: 'delete',
      path: '/api/working-hours/divisions/{id}',
      summary: 'Delete division working hours override',
      description: 'Remove working hours override for a division (reverts to global). 404 when the division has no override.',
      access: 'divisions.manage',
      params: IdParams,
      response: MessageBody,
      audit: { action: 'working_hours.override_deleted', resource: 'working_hours' },
      handler: ({ principal, params }) => removeDivisionHours({ tenantId: principal.tenantId, actor: principal, divisionId: params.id }),
    }),
    route({
      method: 'get',
      path: '/api/settings/timezone',
      summary: 'Get tenant timezone',
      access: 'settings.manage',
      response: TimezoneSettingBody,
      handler: ({ principal }) => getTimezone({ tenantId: principal.tenantId, actor: principal }),
    }),
    route({
      method: 'put',
      path: '/api/settings/timezone',
      summary: 'Update tenant timezone',
      description: 'Working hours and holidays are local times and dates, so they follow the new zone.',
      access: 'settings.manage',
      body: TimezoneBody,
      response: TimezoneSettingBody,
      audit: { action: 'settings.timezone_updated', resource: 'settings', target: () => null },
      handler: ({ principal, body }) => updateTimezone({ tenantId: principal.tenantId, actor: principal, timezone: body.timezone }),
    }),
    route({
      method: 'get',
      path: '/api/working-hours/status',
      summary: 'Check working hours status (public)',
      description:
        'Check whether the business is currently within working hours. Public: the organization is the caller’s when credentials are sent, ' +
        'else `?tenant=<id or slug>`. `division_id` uses that division’s override if it has one. `next_change_at` is the next opening or ' +
        'closing (null when none is scheduled); `holiday` is today’s public holiday, if any.',
      access: 'public',
      query: StatusQuery,
      response: WorkingHoursStatusBody,
      errors: { 404: 'No active organization with this id or slug' },
      handler: async ({ principal, query }) =>
        presentWorkingHoursStatus(
          await checkWorkingHours({
            principal,
            ...(query.tenant ? { tenant: query.tenant } : {}),
            ...(query.division_id ? { divisionId: query.division_id } : {}),
          }),
        ),
    }),
    route({
      method: 'get',
      path: '/api/working-hours/holidays',
      summary: 'List public holidays',
      description: 'Dates (local to the tenant) on which the business and all its divisions are closed, ordered by date.',
      access: 'settings.manage',
      response: HolidaysBody,
      handler: ({ principal }) => listHolidays({ tenantId: principal.tenantId, actor: principal }),
    }),
    route({
      method: 'put',
      path: '/api/working-hours/holidays',
      summary: 'Replace public holidays',
      description:
        'Replaces the whole list (an empty list clears it). On a holiday, ranges starting that day do not open; an overnight range from the day before still runs into it.',
      access: 'settings.manage',
      body: ReplaceHolidaysBody,
      response: HolidaysBody,
      audit: { action: 'working_hours.holidays_updated', resource: 'working_hours', target: () => null },
      handler: ({ principal, body }) => replaceHolidays({ tenantId: principal.tenantId, actor: principal, holidays: body.holidays }),
    }),
  ],
};
