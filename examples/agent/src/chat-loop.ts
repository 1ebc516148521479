import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpSession } from './mcp-session.ts';
import type { Reporter } from './reporter.ts';
import { describeOutcome, runStep } from './step.ts';

/**
 * `--mode openai`: a tool-calling loop against any endpoint that speaks the OpenAI chat-completions wire format
 * (`POST {base}/chat/completions` with `tools`; OpenAI, or a local server such as Ollama, vLLM or llama.cpp).
 * The MCP server's tools are offered as functions; each `tool_calls` entry the model returns is called through the
 * same authenticated MCP session as the scripted plan, and the outcome (including a 403 refusal) goes back as a
 * `tool` message. The loop ends when the model answers without tool calls, or after `maxTurns` requests.
 *
 * Tested against a local fake of the wire format only (examples/agent/test/chat-loop.test.ts and the end-to-end
 * test); no real model is called in this repository's tests.
 */

export interface ChatOptions {
  /** e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; local servers usually need none. */
  apiKey: string | undefined;
  model: string;
  prompt: string;
  maxTurns: number;
  fetch?: typeof fetch;
}

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

const systemPrompt =
  'You are a demo agent with your own identity, connected to an MCP server whose tools are given to you as functions. ' +
  'Use them to do what the user asks. A call may be refused because your token lacks a scope; say so instead of retrying it.';

/** An MCP tool as an OpenAI function: its JSON Schema goes unchanged, minus `$schema`, which some servers reject. */
export function toChatTool(tool: Tool): { type: 'function'; function: { name: string; description: string; parameters: Record<string, unknown> } } {
  const { $schema: _ignored, ...parameters } = tool.inputSchema as Record<string, unknown>;
  return { type: 'function', function: { name: tool.name, description: tool.description ?? '', parameters } };
}

/** One chat-completions request (`POST {base}/chat/completions`); the assistant's message, or an error naming the answer. Also used by examples/chat. */
export async function complete(options: Pick<ChatOptions, 'baseUrl' | 'apiKey' | 'fetch'>, body: unknown): Promise<{ content: string | null; tool_calls?: ChatToolCall[] }> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const response = await (options.fetch ?? fetch)(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 500)}`);
  const message = (JSON.parse(text) as { choices?: { message?: { content?: string | null; tool_calls?: ChatToolCall[] } }[] }).choices?.[0]?.message;
  if (message === undefined) throw new Error(`${url} answered without choices[0].message`);
  return { content: message.content ?? null, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) };
}

/** Runs the loop; resolves true when the model gave a final answer. */
export async function runChatLoop(session: McpSession, reporter: Reporter, options: ChatOptions): Promise<boolean> {
  const tools = (await session.tools()).map(toChatTool);
  const messages: ChatMessage[] = [
    { role: 'system', content: systemPrompt },
    { role: 'user', content: options.prompt },
  ];
  reporter.event('chat', { model: options.model, base_url: options.baseUrl, tools: tools.map((t) => t.function.name) }, `asking ${options.model} at ${options.baseUrl}: ${options.prompt}`);

  for (let turn = 1; turn <= options.maxTurns; turn++) {
    const message = await complete(options, { model: options.model, messages, tools, tool_choice: 'auto' });
    messages.push({ role: 'assistant', content: message.content, ...(message.tool_calls ? { tool_calls: message.tool_calls } : {}) });
    if (message.tool_calls === undefined) {
      reporter.event('answer', { content: message.content ?? '' }, `model: ${message.content ?? ''}`);
      reporter.event('done', { ok: true, turns: turn }, 'done');
      return true;
    }
    for (const call of message.tool_calls) {
      let args: unknown;
      try {
        args = JSON.parse(call.function.arguments || '{}');
      } catch {
        args = undefined;
      }
      const content =
        typeof args === 'object' && args !== null && !Array.isArray(args)
          ? describeOutcome(await runStep(session, reporter, call.function.name, args as Record<string, unknown>))
          : 'error: the arguments were not a JSON object';
      messages.push({ role: 'tool', tool_call_id: call.id, content });
    }
  }
  reporter.event('done', { ok: false, turns: options.maxTurns }, `done: no final answer after ${options.maxTurns} requests`);
  return false;
}
