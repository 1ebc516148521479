import type { McpSession, ToolOutcome } from './mcp-session.ts';
import type { Reporter } from './reporter.ts';

/** One line (or a few) saying what became of a tool call; also what the chat model is told. */
export function describeOutcome(outcome: ToolOutcome): string {
  switch (outcome.kind) {
    case 'result':
      return outcome.value === undefined ? outcome.text : JSON.stringify(outcome.value);
    case 'tool_error':
      return `tool error: ${outcome.message}`;
    case 'refused': {
      const scope = outcome.scope ? ` (needs scope "${outcome.scope}")` : '';
      return `refused by the MCP server: HTTP ${outcome.status} ${outcome.error ?? 'no token'}${scope}${outcome.description ? `: ${outcome.description}` : ''}`;
    }
    case 'token_refused':
      return `the authorization server refused a token: ${outcome.error}${outcome.description ? ` (${outcome.description})` : ''}`;
    case 'failed':
      return `failed: ${outcome.message}`;
  }
}

/** Calls one tool and reports it as a `step` event. */
export async function runStep(session: McpSession, reporter: Reporter, tool: string, args: Record<string, unknown> = {}): Promise<ToolOutcome> {
  const outcome = await session.call(tool, args);
  const shown = describeOutcome(outcome);
  const mark = outcome.ok ? '' : '✗ ';
  reporter.event('step', { tool, arguments: args, outcome }, `→ ${tool} ${JSON.stringify(args)}\n${indent(mark + shown)}`);
  return outcome;
}

function indent(text: string): string {
  const pretty = text.startsWith('{') || text.startsWith('[') ? tryPretty(text) : text;
  return pretty
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function tryPretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
