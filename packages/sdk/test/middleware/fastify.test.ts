import Fastify from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mandateAuthPlugin, protectedResourceMetadata, requireAuth } from '../../src/middleware/fastify.ts';
import { runAdapterSuite } from '../helpers/adapter-suite.ts';

runAdapterSuite(
  'Fastify 5',
  async ({ verifier, metadata }) => {
    const app = Fastify();
    // A minimal form parser, so that a token in a form body is visible to the preHandler.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    await app.register(mandateAuthPlugin);
    await app.register(protectedResourceMetadata(metadata));
    const answer = async (request: FastifyRequest, reply: FastifyReply) =>
      reply.send({ subject: request.auth?.subject, agentId: request.auth?.agentId, scopes: request.auth?.scopes });
    app.get('/files', { preHandler: requireAuth({ verifier, requiredScopes: ['files:read'] }) }, answer);
    app.post('/files', { preHandler: requireAuth({ verifier, requiredScopes: ['files:write'] }) }, answer);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
  { formBody: true },
);
