import type { ScopeRisk } from '../store/store.ts';

/** OpenID Connect Core §5.4 and §11 scopes, which Mandate defines itself (no resource server does). */
export const OIDC_SCOPES: Readonly<Record<string, { description: string; risk: ScopeRisk }>> = {
  openid: { description: 'Confirm who you are', risk: 'low' },
  profile: { description: 'See your name', risk: 'low' },
  email: { description: 'See your email address', risk: 'low' },
  offline_access: { description: 'Keep access when you are not using it (refresh tokens)', risk: 'medium' },
};

export const isOidcScope = (scope: string): boolean => Object.hasOwn(OIDC_SCOPES, scope);
