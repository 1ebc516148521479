import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { protectedResourceMetadata, requireAuth } from '../../src/middleware/hono.ts';
import type { AuthEnv } from '../../src/middleware/hono.ts';
import { runAdapterSuite } from '../helpers/adapter-suite.ts';

runAdapterSuite(
  'Hono 4',
  async ({ verifier, metadata }) => {
    const app = new Hono<AuthEnv>();
    app.use(protectedResourceMetadata(metadata));
    const answer = (c: Context<AuthEnv>) => {
      const auth = c.get('auth');
      return c.json({ subject: auth.subject, agentId: auth.agentId, scopes: auth.scopes });
    };
    app.get('/files', requireAuth({ verifier, requiredScopes: ['files:read'] }), answer);
    app.post('/files', requireAuth({ verifier, requiredScopes: ['files:write'] }), answer);
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
    };
  },
  { formBody: true },
);
