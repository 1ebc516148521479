import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A test double of an OpenAI-compatible chat-completions endpoint (`POST /v1/chat/completions`), speaking its wire
 * format: it records each request and answers with the next scripted assistant message, with `tool_calls` when the
 * script says so. It stands in for the external model service, which the tests never call.
 */

export interface ScriptedToolCall {
  name: string;
  /** An object (sent JSON-encoded, as the API does) or a raw string (to send malformed arguments). */
  arguments: Record<string, unknown> | string;
}

export type ScriptedReply = { content?: string; toolCalls?: ScriptedToolCall[] } | { status: number; body: string };

export interface ChatRequest {
  authorization: string | undefined;
  body: {
    model: string;
    messages: { role: string; content: string | null; tool_call_id?: string; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }[];
    tools: { type: string; function: { name: string; description: string; parameters: Record<string, unknown> } }[];
    tool_choice?: string;
  };
}

export interface FakeChatCompletions {
  /** e.g. `http://127.0.0.1:1234/v1`: what OPENAI_BASE_URL would be. */
  baseUrl: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** `script` gives the reply to the n-th request (0-based), from the requests so far; past its end, HTTP 500. */
export async function startFakeChatCompletions(script: ScriptedReply[] | ((request: ChatRequest, index: number) => ScriptedReply)): Promise<FakeChatCompletions> {
  const requests: ChatRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const request: ChatRequest = { authorization: req.headers.authorization, body: (await readJson(req)) as ChatRequest['body'] };
      const index = requests.push(request) - 1;
      const reply = typeof script === 'function' ? script(request, index) : script[index];
      if (reply === undefined) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"the fake has no more replies"}}');
        return;
      }
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
        return;
      }
      const toolCalls = reply.toolCalls?.map((call, i) => ({
        id: `call_${index}_${i}`,
        type: 'function',
        function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments) },
      }));
      const body = {
        id: `chatcmpl-fake-${index}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: reply.content ?? null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
            finish_reason: toolCalls ? 'tool_calls' : 'stop',
          },
        ],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
