import { type ChatMessage, complete, toChatTool } from '../../agent/src/chat-loop.ts';
import type { ChatAgent } from './conversation.ts';
import { describeChatOutcome } from './conversation.ts';

/**
 * The chat's brain when a model is configured: any endpoint that speaks the OpenAI chat-completions wire format
 * (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `MANDATE_AGENT_MODEL`), through examples/agent's `complete`. The MCP tools are
 * offered as functions, plus `userinfo` (who the person is, from the authorization server). Each tool call goes
 * through the conversation, so a call that needs an approval waits for it here too, and its outcome (or the
 * denial's reason) is what the model reads. The conversation's messages are kept between turns.
 */

export interface ModelOptions {
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  /** Requests per turn at most. */
  maxRequests: number;
  fetch?: typeof fetch;
}

const SYSTEM_PROMPT =
  'You are the demo agent of a web chat. You act on behalf of the person you talk to, with their authorization: the ' +
  'functions are tools of an MCP server, called with their token. A call may wait for an approver or be denied; when ' +
  'it is denied, say why, in the words of the refusal. Use userinfo to answer who the person is logged in as.';

const USERINFO_TOOL = {
  type: 'function' as const,
  function: {
    name: 'userinfo',
    description: 'Who the person you talk to is logged in as: their OpenID userinfo claims (sub, email, name) from the authorization server.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
  },
};

export function modelAgent(options: ModelOptions): ChatAgent {
  return {
    async reply(text, context, memory) {
      const messages = memory as ChatMessage[];
      if (messages.length === 0) messages.push({ role: 'system', content: SYSTEM_PROMPT });
      messages.push({ role: 'user', content: text });
      const tools = [...(await context.tools()).map(toChatTool), USERINFO_TOOL];
      for (let request = 0; request < options.maxRequests; request++) {
        const message = await complete(options, { model: options.model, messages, tools, tool_choice: 'auto' });
        messages.push({ role: 'assistant', content: message.content, ...(message.tool_calls ? { tool_calls: message.tool_calls } : {}) });
        if (message.tool_calls === undefined) return message.content ?? '';
        for (const call of message.tool_calls) {
          let args: unknown;
          try {
            args = JSON.parse(call.function.arguments || '{}');
          } catch {
            args = undefined;
          }
          let content: string;
          if (typeof args !== 'object' || args === null || Array.isArray(args)) content = 'error: the arguments were not a JSON object';
          else if (call.function.name === 'userinfo') content = JSON.stringify(await context.userinfo());
          else content = describeChatOutcome(await context.callTool(call.function.name, args as Record<string, unknown>));
          messages.push({ role: 'tool', tool_call_id: call.id, content });
        }
      }
      return `I stopped after ${options.maxRequests} requests to the model without a final answer.`;
    },
  };
}
