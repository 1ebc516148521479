import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentAuthClient } from '@mandate/sdk/agent';
import { type ChatAgent, Conversation } from './conversation.ts';
import { renderCallbackPage, renderChatPage, renderEntry } from './page.ts';
import { sameSecret } from './same-secret.ts';

/**
 * The chat's web server (node:http, no framework): the page, its script and stylesheet, `POST /messages`, the
 * event stream of the transcript, and the sign-in (`/login` redirects to the authorization server, `/callback`
 * comes back). One conversation per browser, found by an HttpOnly cookie; every POST carries the conversation's
 * CSRF token. Pages load no inline script or style (CSP `default-src 'self'`) and may not be framed.
 */

export interface ChatServerOptions {
  issuer: string;
  mcpUrl: string;
  agent: { clientId: string; clientSecret: string };
  /** The chat's OAuth application: a confidential client whose redirect URI is this server's `/callback`. */
  app: { clientId: string; clientSecret: string };
  /** Resource scopes asked for at sign-in (the rest are asked for, through an approval, when a tool needs them). */
  scope: string;
  brain: ChatAgent;
  /** Shown on the page: `offline rules` or the model's name. */
  mode: string;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The page's origin as the browser sees it; default `http://<host>:<port>`. The redirect URI is `<origin>/callback`. */
  publicOrigin?: string;
  log?: (line: string) => void;
  /** For tests: the agent's clock (milliseconds) and how it waits between CIBA polls. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RunningChatServer {
  url: string;
  close(): Promise<void>;
}

const COOKIE = 'mandate_chat';
const MAX_CONVERSATIONS = 500;
const STATIC: Record<string, string> = { 'chat.js': 'text/javascript', 'callback.js': 'text/javascript', 'chat.css': 'text/css' };
const staticFile = (name: string) => readFileSync(new URL(`./static/${name}`, import.meta.url));

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // The callback's URL carries the code: no page sends it on as a Referer.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

interface Visitor {
  id: string;
  csrf: string;
  conversation: Conversation;
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) return undefined;
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16_384) return undefined;
  }
  return new URLSearchParams(body);
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startChatServer(options: ChatServerOptions): Promise<RunningChatServer> {
  const log = options.log ?? (() => {});
  const host = options.host ?? '127.0.0.1';
  const http = createServer();
  const port = await listen(http, options.port, host);
  const origin = options.publicOrigin ?? `http://${host}:${port}`;
  const redirectUri = `${origin}/callback`;
  const secure = origin.startsWith('https:');
  const agent = new AgentAuthClient({
    issuer: options.issuer,
    clientId: options.agent.clientId,
    clientSecret: options.agent.clientSecret,
    app: { clientId: options.app.clientId, clientSecret: options.app.clientSecret, redirectUri },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  const visitors = new Map<string, Visitor>();
  const streams = new Set<ServerResponse>();

  function visitorOf(req: IncomingMessage): Visitor | undefined {
    const id = readCookie(req, COOKIE);
    return id === undefined ? undefined : visitors.get(id);
  }

  function newVisitor(res: ServerResponse): Visitor {
    if (visitors.size >= MAX_CONVERSATIONS) {
      const [oldest] = visitors.values();
      visitors.delete(oldest!.id);
      void oldest!.conversation.close();
    }
    const visitor: Visitor = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      conversation: new Conversation({ agent, agentId: options.agent.clientId, agentSecret: options.agent.clientSecret, issuer: options.issuer, mcpUrl: options.mcpUrl, scope: options.scope, brain: options.brain, log, ...(options.clock ? { clock: options.clock } : {}) }),
    };
    visitors.set(visitor.id, visitor);
    res.setHeader('set-cookie', `${COOKIE}=${visitor.id}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
    return visitor;
  }

  function page(res: ServerResponse, visitor: Visitor): void {
    const signedIn = visitor.conversation.transcript.entries.findLast((e) => e.kind === 'sign_in' && e.done);
    send(res, 200, 'text/html; charset=utf-8', renderChatPage({
      csrf: visitor.csrf,
      entries: visitor.conversation.transcript.entries,
      signedInAs: visitor.conversation.signedIn && signedIn?.kind === 'sign_in' ? signedIn.who : undefined,
      agentId: options.agent.clientId,
      mode: options.mode,
    }));
  }

  /** Server-Sent Events: every entry after `after` now, then each one added or changed. */
  function events(req: IncomingMessage, res: ServerResponse, visitor: Visitor, after: number): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    // A comment at once: the headers go out now, so the browser (and a test) knows the stream is open.
    res.write(': connected\n\n');
    const write = (entry: Parameters<typeof renderEntry>[0]) => res.write(`event: entry\ndata: ${JSON.stringify({ id: entry.id, html: renderEntry(entry) })}\n\n`);
    for (const entry of visitor.conversation.transcript.entries) if (entry.id > after) write(entry);
    const unsubscribe = visitor.conversation.transcript.subscribe(write);
    streams.add(res);
    req.on('close', () => {
      unsubscribe();
      streams.delete(res);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const route = `${req.method} ${url.pathname}`;
    if (req.method === 'GET' && url.pathname.startsWith('/static/')) {
      const name = url.pathname.slice('/static/'.length);
      const type = STATIC[name];
      return type === undefined ? send(res, 404, 'text/plain', 'not found') : send(res, 200, `${type}; charset=utf-8`, staticFile(name), { 'cache-control': 'no-cache' });
    }
    if (route === 'GET /') return page(res, visitorOf(req) ?? newVisitor(res));
    const visitor = visitorOf(req);
    switch (route) {
      case 'POST /messages': {
        const form = await readForm(req);
        const text = form?.get('text')?.trim() ?? '';
        if (visitor === undefined || form === undefined || !sameSecret(visitor.csrf, form.get('csrf') ?? '')) return send(res, 403, 'text/plain; charset=utf-8', 'This form is stale: reload the chat.');
        if (text === '' || text.length > 2000) return send(res, 400, 'text/plain; charset=utf-8', 'A message is 1 to 2000 characters.');
        void visitor.conversation.say(text).catch((err: unknown) => log(`turn failed: ${String(err)}`));
        if (/application\/json/.test(req.headers.accept ?? '')) return send(res, 202, 'application/json', '{"accepted":true}');
        res.writeHead(303, { ...SECURITY_HEADERS, location: '/' });
        return void res.end();
      }
      case 'GET /events':
        if (visitor === undefined) return send(res, 403, 'text/plain', 'no conversation');
        return events(req, res, visitor, Number(url.searchParams.get('after')) || 0);
      case 'GET /login': {
        if (visitor === undefined) {
          res.writeHead(303, { ...SECURITY_HEADERS, location: '/' });
          return void res.end();
        }
        const target = await visitor.conversation.startSignIn(redirectUri);
        res.writeHead(302, { ...SECURITY_HEADERS, location: target });
        return void res.end();
      }
      case 'GET /callback': {
        const result = visitor === undefined ? { ok: false as const, error: 'This browser has no chat open: open the chat first.' } : await visitor.conversation.finishSignIn(url);
        return send(res, result.ok ? 200 : 400, 'text/html; charset=utf-8', renderCallbackPage(result));
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found');
    }
  }

  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.on('finish', () => log(`${req.method} ${new URL(req.url ?? '/', origin).pathname} ${res.statusCode}`));
    handle(req, res).catch((err: unknown) => {
      log(`error: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'The chat failed; see its log.');
      else res.end();
    });
  });

  let closed: Promise<void> | undefined;
  return {
    url: `${origin}/`,
    close() {
      closed ??= (async () => {
        for (const stream of streams) stream.end();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
        for (const visitor of visitors.values()) await visitor.conversation.close();
      })();
      return closed;
    },
  };
}
