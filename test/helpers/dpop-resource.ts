import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDpopNonces } from '../../packages/sdk/src/dpop/index.ts';
import { requireAuth } from '../../packages/sdk/src/middleware/node.ts';
import { createVerifier } from '../../packages/sdk/src/verify/create-verifier.ts';
import type { TestServer } from '../../packages/server/test/helpers/server.ts';

export interface DpopResource {
  /** The resource's URL, also its resource identifier (to register with the authorization server). */
  url: string;
  close(): Promise<void>;
}

/**
 * A node:http resource at `/api` guarded by the SDK's middleware for tokens of `server`, on its clock, requiring its
 * own DPoP nonces (RFC 9449 §9); it answers `{ subject, jkt }` of the verified token.
 */
export async function startDpopResource(server: TestServer): Promise<DpopResource> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api`;
  const verifier = createVerifier({ issuer: server.issuer, audience: url, clock: server.clock.nowMs, dpop: { nonces: createDpopNonces(randomBytes(32), 60) } });
  const guard = requireAuth({ verifier });
  http.on('request', async (req, res) => {
    const auth = await guard(req, res);
    if (auth === undefined) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ subject: auth.subject, jkt: auth.confirmation?.jkt }));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
