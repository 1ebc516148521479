import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { basicAuth, registerAgentAndResource, startTestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { parseTraceparent } from '../../src/http/tracing.ts';

/**
 * OpenTelemetry traces (issue 13 item 5) received by a real OTLP/HTTP endpoint: a small HTTP server here decodes
 * the JSON export (`POST /v1/traces`, ExportTraceServiceRequest). A token request gives a server span with its
 * route, status and client, and child spans for its store calls; nothing of a credential or a token is exported.
 */

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** A collector's OTLP/HTTP traces endpoint, keeping every export's raw body and its decoded spans. */
class OtlpReceiver {
  readonly bodies: string[] = [];
  readonly exports: OtlpExport[] = [];
  readonly #server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      this.bodies.push(body);
      this.exports.push(JSON.parse(body) as OtlpExport);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
  spans(): OtlpSpan[] {
    return this.exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  }
}

const attribute = (span: { attributes: OtlpAttribute[] }, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? value?.boolValue : Number(value.intValue));
};

forEachStore('OpenTelemetry traces', (fixture) => {
  const receiver = new OtlpReceiver();
  let endpoint: string;
  before(async () => {
    endpoint = await receiver.start();
  });
  after(() => receiver.close());

  test('a token request is exported as a server span (route, status, client_id) with child spans for its store calls; no secret or token in the export', async () => {
    const server = await startTestServer(fixture, { telemetry: { otlpEndpoint: endpoint, serviceName: 'mandate-under-test' } });
    const resource = 'https://traced.example.com/mcp';
    const agent = await registerAgentAndResource(server, {}, resource);
    // The caller's trace (W3C Trace Context): the request's span continues it.
    const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const response = await server.postForm(
      '/token',
      { grant_type: 'client_credentials', scope: 'calc', resource },
      { authorization: basicAuth(agent.clientId, agent.clientSecret), traceparent: `00-${callerTraceId}-${callerSpanId}-01` },
    );
    assert.equal(response.status, 200);
    const { access_token } = (await response.json()) as { access_token: string };
    const refused = await server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc' }, { authorization: basicAuth(agent.clientId, 'wrong-secret') });
    assert.equal(refused.status, 401);
    // Closing flushes what is queued: the signal that every span has been exported.
    await server.close();

    const exported = receiver.exports.find((e) => e.resourceSpans.some((r) => attribute(r.resource, 'service.name') === 'mandate-under-test'));
    assert.ok(exported, 'the spans name their service');
    const spans = receiver.spans();
    const tokenSpans = spans.filter((s) => s.name === 'POST /token');
    const issued = tokenSpans.find((s) => attribute(s, 'http.response.status_code') === 200)!;
    assert.ok(issued, `a span per token request: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(issued.kind, 2, 'SPAN_KIND_SERVER');
    assert.equal(attribute(issued, 'http.route'), '/token');
    assert.equal(attribute(issued, 'http.request.method'), 'POST');
    assert.equal(attribute(issued, 'client_id'), agent.clientId);
    assert.equal(issued.traceId, callerTraceId, 'the incoming traceparent is honoured: same trace');
    assert.equal(issued.parentSpanId, callerSpanId, 'the caller span is the parent');
    const failed = tokenSpans.find((s) => attribute(s, 'http.response.status_code') === 401);
    assert.ok(failed, 'a refused request has its span too');
    assert.notEqual(failed.traceId, callerTraceId, 'without a traceparent a request starts its own trace');

    const children = spans.filter((s) => s.parentSpanId === issued.spanId);
    assert.ok(children.some((s) => s.name === 'store.getClient'), `store calls under the request: ${children.map((s) => s.name).join(', ')}`);
    assert.ok(children.every((s) => s.traceId === issued.traceId && (s.name.startsWith('store.') || s.name === 'sign')));
    assert.equal(attribute(children.find((s) => s.name.startsWith('store.'))!, 'db.system'), fixture.dialect === 'postgres' ? 'postgresql' : 'sqlite');
    const signing = children.filter((s) => s.name === 'sign');
    assert.equal(signing.length, 1, 'one signature span: the access token');
    assert.equal(attribute(signing[0]!, 'jws.alg'), 'ES256');
    assert.equal(typeof attribute(signing[0]!, 'jws.kid'), 'string');

    const everything = receiver.bodies.join('\n');
    for (const secret of [agent.clientSecret, access_token, access_token.split('.')[2]!, 'wrong-secret', basicAuth(agent.clientId, agent.clientSecret)]) {
      assert.ok(!everything.includes(secret), 'no credential or token is exported');
    }
    assert.ok(!/authorization/i.test(everything), 'no header is exported');
  });
});

test('traceparent: a well-formed W3C header gives the parent; a malformed or invalid one is ignored', () => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const span = '00f067aa0ba902b7';
  assert.deepEqual(parseTraceparent(`00-${trace}-${span}-01`), { traceId: trace, spanId: span, traceFlags: 1 });
  assert.deepEqual(parseTraceparent(`00-${trace}-${span}-00`), { traceId: trace, spanId: span, traceFlags: 0 });
  assert.deepEqual(parseTraceparent(`01-${trace}-${span}-03-later`), { traceId: trace, spanId: span, traceFlags: 1 }, 'a later version may append fields');
  for (const bad of [undefined, ['a', 'b'], '', `ff-${trace}-${span}-01`, `00-${'0'.repeat(32)}-${span}-01`, `00-${trace}-${'0'.repeat(16)}-01`, `00-${trace.toUpperCase()}-${span}-01`, `00-${trace}-${span}-01-extra`, `00-${trace}-${span}`]) {
    assert.equal(parseTraceparent(bad), null, String(bad));
  }
});

/**
 * The OpenTelemetry packages are loaded only when tracing is configured (the idle server's memory, issue 13 item
 * 3): a `mandate` server process records every module it resolves, answers a request, and reports which of them
 * were OpenTelemetry's.
 */
const execFileAsync = promisify(execFile);
const SERVER_MODULE = new URL('../../src/server.ts', import.meta.url).href;

async function openTelemetryModulesLoaded(telemetry: Record<string, string> | undefined): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-otel-'));
  try {
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); if (r.url.includes('/@opentelemetry/')) loaded.push(r.url.replace(/^.*\\/node_modules\\/(@opentelemetry\\/[^/]+)\\/.*$/, '$1')); return r; } });
      const { startServer } = await import(${JSON.stringify(SERVER_MODULE)});
      const server = await startServer({ port: 0, databaseUrl: ${JSON.stringify(`sqlite:${join(dir, 'm.db')}`)}, logLevel: 'silent', keys: { kek: ${JSON.stringify(randomBytes(32).toString('base64url'))} }${telemetry ? `, telemetry: ${JSON.stringify(telemetry)}` : ''} });
      await (await fetch(server.issuer + '/.well-known/oauth-authorization-server')).text();
      await server.close();
      console.log(JSON.stringify(loaded));
    `;
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '--eval', script], { timeout: 120_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!) as string[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('without an OTLP endpoint no OpenTelemetry module is loaded at all; with one the SDK and the exporter are', async () => {
  assert.deepEqual([...new Set(await openTelemetryModulesLoaded(undefined))], []);
  // An endpoint nobody listens on: the spans fail to export, quietly; the packages were loaded all the same.
  const loaded = new Set(await openTelemetryModulesLoaded({ otlpEndpoint: 'http://127.0.0.1:9' }));
  for (const name of ['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources']) assert.ok(loaded.has(name), `${name} in ${[...loaded].join(', ')}`);
});
