import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { protectedResourceMetadata, requireAuth } from '../../src/middleware/node.ts';
import { runAdapterSuite } from '../helpers/adapter-suite.ts';

runAdapterSuite(
  'node:http',
  async ({ verifier, metadata }) => {
    const serveMetadata = protectedResourceMetadata(metadata);
    const read = requireAuth({ verifier, requiredScopes: ['files:read'] });
    const write = requireAuth({ verifier, requiredScopes: ['files:write'] });
    const server = createServer(async (req, res) => {
      if (serveMetadata(req, res)) return;
      const auth = await (req.method === 'POST' ? write : read)(req, res);
      if (auth === undefined) return;
      const onRequest = (req as typeof req & { auth?: typeof auth }).auth;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ subject: onRequest?.subject, agentId: onRequest?.agentId, scopes: onRequest?.scopes }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
  },
  { formBody: false },
);
