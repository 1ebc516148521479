import { readFileSync } from 'node:fs';
import { PAGE_CSP } from '../http/browser-guard.ts';
import type { RouteDefinition } from '../http/route.ts';

const ASSETS: Record<string, string> = { 'mandate.css': 'text/css; charset=utf-8', 'passkey.js': 'text/javascript; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };

/** The pages' stylesheet, the passkey script and the console's live-queue script, read once at startup and served with a short public cache. */
export function staticAssetRoutes(): RouteDefinition[] {
  return Object.entries(ASSETS).map(([name, type]) => {
    const body = readFileSync(new URL(`../ui/static/${name}`, import.meta.url));
    return {
      method: 'GET',
      url: `/static/${name}`,
      access: 'public',
      errorFormat: 'problem',
      handler: async (_request, reply) => reply.header('cache-control', 'public, max-age=300').header('content-security-policy', PAGE_CSP).type(type).send(body),
    } satisfies RouteDefinition;
  });
}
