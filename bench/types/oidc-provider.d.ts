/**
 * The little of oidc-provider 9's API the bench peer uses. The package ships no types, and @types/oidc-provider
 * would be a second dependency for one constructor call. This file sits below bench/ so run.ts does not list it.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
  };

  export default Provider;
}
