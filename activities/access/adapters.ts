/**
 * The access adapter of each connector type roles can grant on. A type without one cannot be
 * reconciled: the caller says so instead of guessing.
 */
import type { AccessAdapter } from './adapter';
import { createLdapAccess } from './ldap';
import { createScimAccess } from './scim';

let ldap: AccessAdapter | undefined;
let scim: AccessAdapter | undefined;

/** The adapter for `connectorType`, or undefined when reconcile does not support the type. */
export function accessAdapter(connectorType: string): AccessAdapter | undefined {
  switch (connectorType) {
    case 'ldap':
      return (ldap ??= createLdapAccess());
    case 'scim':
      return (scim ??= createScimAccess());
    default:
      return undefined;
  }
}
