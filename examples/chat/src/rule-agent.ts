import type { ChatAgent, ChatToolOutcome, TurnContext } from './conversation.ts';
import { describeChatOutcome } from './conversation.ts';

/**
 * The offline agent (the default): no model, a few rules that map a message to tool calls, so the demo and its
 * tests behave the same every time. It understands "who am I logged in as?", sums ("add 2 and 3", "2 + 3"),
 * "list files [in dir]", "read <file>", "write <text> to <file>" and "run <command>" / "what time is it?".
 */

export type Plan =
  | { kind: 'who_am_i' }
  | { kind: 'tool'; tool: string; args: Record<string, unknown> }
  | { kind: 'help' };

const NUMBER = String.raw`(-?\d+(?:\.\d+)?)`;

/** The message's plan: the first rule that matches. */
export function planFor(message: string): Plan {
  const text = message.trim();
  if (/\bwho\s+am\s+i\b|\blogged\s+in\b|\bsigned\s+in\s+as\b|\bwhoami\b/i.test(text)) return { kind: 'who_am_i' };
  const sum = new RegExp(`${NUMBER}\\s*(?:\\+|plus|and)\\s*${NUMBER}`, 'i').exec(text);
  if (sum && /\b(add|sum|plus)\b|\+/i.test(text)) return { kind: 'tool', tool: 'add', args: { a: Number(sum[1]), b: Number(sum[2]) } };
  const list = /\blist\b.*?\bfiles?\b(?:\s+in\s+(\S+?))?[.?!]?$/i.exec(text);
  if (list) return { kind: 'tool', tool: 'list_files', args: { path: list[1] ?? '.' } };
  const write = /\bwrite\s+"([^"]*)"\s+(?:to|into)\s+(\S+?)[.?!]?$/i.exec(text);
  if (write) return { kind: 'tool', tool: 'write_file', args: { path: write[2], content: write[1] } };
  const read = /\bread\s+(?:the\s+file\s+)?(\S+?)[.?!]?$/i.exec(text);
  if (read) return { kind: 'tool', tool: 'read_file', args: { path: read[1] } };
  const run = /\brun\s+(?:the\s+command\s+)?[`"]?([^`"]+?)[`"]?[.?!]?$/i.exec(text);
  if (run) return { kind: 'tool', tool: 'run_command', args: { command: run[1] } };
  if (/\bwhat\s+time\b|\bdate\b/i.test(text)) return { kind: 'tool', tool: 'run_command', args: { command: 'date -u' } };
  return { kind: 'help' };
}

const HELP =
  'I am the demo agent, working offline (no model). I can tell you who you are logged in as ("who am I logged in as?"), ' +
  'add numbers ("add 2 and 3"), list files ("list files"), read one ("read hello.txt"), write one ("write \\"hi\\" to notes/hi.txt") ' +
  'and run an allow-listed command ("run date -u"), all with your authorization.';

function value(outcome: ChatToolOutcome): Record<string, unknown> | undefined {
  return outcome.ok && typeof outcome.value === 'object' && outcome.value !== null ? (outcome.value as Record<string, unknown>) : undefined;
}

/** The answer when the call did not succeed: why, in the words of whoever refused. */
function failure(tool: string, outcome: ChatToolOutcome): string {
  if (outcome.kind === 'not_approved') return `I could not run ${tool}; it was not approved (${outcome.reason}).`;
  return `I could not run ${tool}: ${describeChatOutcome(outcome)}`;
}

async function whoAmI(context: TurnContext): Promise<string> {
  const claims = await context.userinfo();
  const name = typeof claims['name'] === 'string' ? `${claims['name']} ` : '';
  const email = typeof claims['email'] === 'string' ? `<${claims['email']}> ` : '';
  const who = `You are logged in as ${name}${email}(user ${String(claims['sub'])}), says the authorization server's userinfo endpoint.`;
  const outcome = await context.callTool('whoami', {});
  const seen = value(outcome);
  if (seen === undefined) return `${who} ${failure('whoami', outcome)}`;
  return `${who} The MCP server sees user ${String(seen['subject'])} with agent ${String(seen['agent'])} acting for them: I act on your behalf.`;
}

function answer(tool: string, args: Record<string, unknown>, outcome: ChatToolOutcome): string {
  if (!outcome.ok) return failure(tool, outcome);
  const result = value(outcome);
  switch (tool) {
    case 'add':
      return `${String(args['a'])} + ${String(args['b'])} = ${String(result?.['sum'])}.`;
    case 'list_files': {
      const entries = Array.isArray(result?.['entries']) ? (result['entries'] as { name: string; type: string }[]) : [];
      return entries.length === 0 ? 'That directory is empty.' : `In ${String(args['path'])}: ${entries.map((e) => (e.type === 'directory' ? `${e.name}/` : e.name)).join(', ')}.`;
    }
    case 'read_file':
      return `${String(args['path'])} says:\n${outcome.text}`;
    case 'write_file':
      return `Written: ${String(args['path'])}.`;
    case 'run_command':
      return `The command "${String(args['command'])}" printed:\n${String(result?.['stdout'] ?? outcome.text).trimEnd()}`;
    default:
      return outcome.text;
  }
}

export const ruleAgent: ChatAgent = {
  async reply(text, context) {
    const plan = planFor(text);
    if (plan.kind === 'help') return HELP;
    if (plan.kind === 'who_am_i') return whoAmI(context);
    return answer(plan.tool, plan.args, await context.callTool(plan.tool, plan.args));
  },
};
