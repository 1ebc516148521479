import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ConfigError, defaults, resolveConfig, startServer } from '@mandate/server';
import type { ConfigOverrides, RunningServer } from '@mandate/server';
import { forEachStore } from './helpers/stores.ts';

forEachStore('@mandate/server, the package entry an embedder imports', (fixture) => {
  test('startServer from the package name serves the authorization server over HTTP, then closes', async () => {
    const overrides: ConfigOverrides = { port: 0, databaseUrl: fixture.url, logLevel: 'silent', keys: { kek: randomBytes(32).toString('base64url') } };
    const server: RunningServer = await startServer(overrides);
    try {
      assert.equal(server.config.tokens.accessTokenTtlSeconds, defaults.tokens.accessTokenTtlSeconds);
      const response = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { issuer: string }).issuer, server.issuer);
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(`${server.issuer}/.well-known/oauth-authorization-server`));
  });
});

test('the entry exports the configuration API: resolveConfig refuses a bad option with ConfigError', () => {
  assert.throws(() => resolveConfig({ port: -1 }), ConfigError);
});
