#!/usr/bin/env node
// The container's health check: exit 0 when this instance's GET /readyz answers 200 (store reachable, signing key
// loaded, not draining), 1 otherwise. Plain JavaScript, so that it runs on any Node without type stripping. It asks
// the local port; the path follows MANDATE_ISSUER's, as every endpoint does.
const port = process.env.PORT || '8787';
const issuerPath = process.env.MANDATE_ISSUER ? new URL(process.env.MANDATE_ISSUER).pathname.replace(/\/$/, '') : '';
fetch(`http://127.0.0.1:${port}${issuerPath}/readyz`, { signal: AbortSignal.timeout(4000) }).then(
  (response) => process.exit(response.status === 200 ? 0 : 1),
  () => process.exit(1),
);
