import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentConfig, UsageError } from '../src/config.ts';

const credentials = { MANDATE_CLIENT_ID: 'agt_1', MANDATE_CLIENT_SECRET: 's' };

test('defaults: the npm start addresses, least-privilege scopes, scripted mode', () => {
  const config = agentConfig([], credentials);
  assert.notEqual(config, 'help');
  assert.deepEqual(config !== 'help' && { ...config, chat: undefined }, {
    issuer: 'http://localhost:8787',
    clientId: 'agt_1',
    clientSecret: 's',
    mcpUrl: 'http://localhost:8788/mcp',
    scope: 'calc files:read',
    mode: 'scripted',
    json: false,
    chat: undefined,
  });
});

test('flags win over the environment', () => {
  const config = agentConfig(['--issuer', 'http://as.test', '--mcp-url', 'http://rs.test/mcp', '--scope', 'calc', '--json', '--client-id', 'agt_2'], {
    ...credentials,
    MANDATE_ISSUER: 'http://ignored',
  });
  assert.ok(config !== 'help');
  assert.equal(config.issuer, 'http://as.test');
  assert.equal(config.mcpUrl, 'http://rs.test/mcp');
  assert.equal(config.scope, 'calc');
  assert.equal(config.clientId, 'agt_2');
  assert.equal(config.json, true);
});

test('openai mode reads OPENAI_BASE_URL, OPENAI_API_KEY and MANDATE_AGENT_MODEL, and needs the model', () => {
  const config = agentConfig(['--mode', 'openai', '--max-turns', '3'], { ...credentials, OPENAI_BASE_URL: 'http://localhost:11434/v1', MANDATE_AGENT_MODEL: 'llama3.1' });
  assert.ok(config !== 'help');
  assert.deepEqual({ ...config.chat, prompt: undefined }, { baseUrl: 'http://localhost:11434/v1', apiKey: undefined, model: 'llama3.1', prompt: undefined, maxTurns: 3 });
  assert.throws(() => agentConfig(['--mode', 'openai'], credentials), (err: unknown) => err instanceof UsageError && /MANDATE_AGENT_MODEL/.test(err.message));
});

test('usage mistakes', () => {
  assert.equal(agentConfig(['--help'], {}), 'help');
  assert.throws(() => agentConfig([], {}), UsageError);
  assert.throws(() => agentConfig(['--mode', 'chatty'], credentials), UsageError);
  assert.throws(() => agentConfig(['--max-turns', '0'], credentials), UsageError);
  assert.throws(() => agentConfig(['--bogus'], credentials), (err: unknown) => (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION');
});
