import type { AddressInfo } from 'node:net';
import express from 'express';
import { getAuth, protectedResourceMetadata, requireAuth } from '../../src/middleware/express.ts';
import { runAdapterSuite } from '../helpers/adapter-suite.ts';

runAdapterSuite(
  'Express 5',
  async ({ verifier, metadata }) => {
    const app = express();
    app.use(protectedResourceMetadata(metadata));
    app.use(express.urlencoded({ extended: false }));
    const answer: express.RequestHandler = (req, res) => {
      const auth = getAuth(req);
      res.json({ subject: auth.subject, agentId: auth.agentId, scopes: auth.scopes });
    };
    app.get('/files', requireAuth({ verifier, requiredScopes: ['files:read'] }), answer);
    app.post('/files', requireAuth({ verifier, requiredScopes: ['files:write'] }), answer);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
  },
  { formBody: true },
);
