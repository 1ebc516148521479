import { createInterface } from 'node:readline';
import type { McpSession } from './mcp-session.ts';
import type { Reporter } from './reporter.ts';
import { runStep } from './step.ts';

/**
 * `--mode stdin`: one tool call per input line, `{"tool": "add", "arguments": {"a": 1, "b": 2}}`, answered by one
 * `step` event each, until the input ends. The session (and its cached token) lives across lines, which is what a
 * test needs to show that a token accepted a moment ago is refused after the agent is disabled.
 */
export async function runStdinPlan(session: McpSession, reporter: Reporter, input: NodeJS.ReadableStream = process.stdin): Promise<boolean> {
  reporter.event('ready', {}, 'reading tool calls from stdin, one JSON object per line: {"tool": "...", "arguments": {...}}');
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let request: { tool?: unknown; arguments?: unknown };
    try {
      request = JSON.parse(line) as typeof request;
    } catch {
      reporter.event('input_error', { line }, `not JSON: ${line}`);
      continue;
    }
    const args = request.arguments ?? {};
    if (typeof request.tool !== 'string' || typeof args !== 'object' || args === null || Array.isArray(args)) {
      reporter.event('input_error', { line }, 'expected {"tool": "<name>", "arguments": {...}}');
      continue;
    }
    await runStep(session, reporter, request.tool, args as Record<string, unknown>);
  }
  reporter.event('done', { ok: true }, 'done');
  return true;
}
