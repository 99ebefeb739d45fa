/** Who is calling: resolved once per request from a JWT or an API key. */
import type { Permission } from './permissions.js';

/** The authenticated caller. */
export interface Principal {
  tenantId: string;
  userId: string;
  userName: string;
  roleId: string;
  permissions: ReadonlySet<string>;
  via: 'jwt' | 'api_key';
  /** Set when `via` is 'api_key'. */
  apiKeyId?: string;
  /** The session token's id, for logout's revocation; set when `via` is 'jwt'. */
  jti?: string;
  /** When the credential stops working (the token's exp, the key's expiry); absent for a key that never expires. */
  expiresAt?: Date;
  /** The super-admin acting as this user, if impersonating. */
  impersonatorId?: string;
}

/** A platform operator, authenticated in the super-admin realm; never a tenant user. */
export interface SuperAdminPrincipal {
  realm: 'super_admin';
  superAdminId: string;
  name: string;
  email: string;
  /** The session token's id. */
  jti: string;
  expiresAt: Date;
}

/** True when the caller holds the permission. */
export const can = (p: Principal, permission: Permission): boolean => p.permissions.has(permission);
