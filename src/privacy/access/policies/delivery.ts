/**
 * Outgoing delivery channels (webhooks, e-mail) and the record of what was sent. Org admins set
 * them up and test them; privacy officers and support under a grant see where data goes and
 * whether it arrived (never the secrets or recipients, which stay encrypted).
 */
import { orgWide, type Policy } from '../policy.ts';

export const deliveryPolicy: Policy<'read' | 'manage'> = {
  read: orgWide('org_admin', 'privacy_officer', 'support'),
  manage: orgWide('org_admin'),
};
