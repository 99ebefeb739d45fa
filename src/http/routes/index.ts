/** Every API group, in contract order. Add a group here to mount it and document it. */
import type { RouteGroup } from '../mount.js';
import { authRoutes } from './auth.js';
import { healthRoutes } from './health.js';

/** The mounted groups. */
export const apiGroups: RouteGroup[] = [authRoutes, healthRoutes];
