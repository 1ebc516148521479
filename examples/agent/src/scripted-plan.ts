import type { McpSession, ToolOutcome } from './mcp-session.ts';
import type { Reporter } from './reporter.ts';
import { runStep } from './step.ts';

/**
 * The default mode, which needs no model: whoami, add, list_files, read_file, then an attempt at write_file. With
 * the default scopes (`calc files:read`) the write is refused with 403 `insufficient_scope`, and that refusal is
 * the expected outcome; with `files:write` granted the write is expected to succeed. Returns whether every step
 * went as expected.
 */
export async function runScriptedPlan(session: McpSession, reporter: Reporter): Promise<boolean> {
  const unexpected: string[] = [];
  const expectOk = (tool: string, outcome: ToolOutcome) => {
    if (!outcome.ok) unexpected.push(tool);
    return outcome;
  };

  const identity = expectOk('whoami', await runStep(session, reporter, 'whoami'));
  const granted = identity.ok ? ((identity.value as { scopes?: string[] } | undefined)?.scopes ?? []) : [];
  expectOk('add', await runStep(session, reporter, 'add', { a: 2, b: 3 }));
  const listing = expectOk('list_files', await runStep(session, reporter, 'list_files', { path: '.' }));
  const entries = listing.ok ? ((listing.value as { entries?: { name: string; type: string }[] } | undefined)?.entries ?? []) : [];
  const file = entries.find((e) => e.type === 'file')?.name ?? 'hello.txt';
  expectOk('read_file', await runStep(session, reporter, 'read_file', { path: file }));

  const write = await runStep(session, reporter, 'write_file', { path: 'agent-notes.txt', content: `Written by the demo agent at ${new Date().toISOString()}\n` });
  const mayWrite = granted.includes('files:write');
  const refusedAsExpected = !write.ok && write.kind === 'refused' && write.status === 403 && write.error === 'insufficient_scope';
  if (mayWrite ? !write.ok : !refusedAsExpected) unexpected.push('write_file');
  else if (!mayWrite) reporter.event('expected', { tool: 'write_file', error: 'insufficient_scope' }, '  (expected: this token has no files:write, so the MCP server refused the call before the tool ran)');

  reporter.event('done', { ok: unexpected.length === 0, unexpected }, unexpected.length === 0 ? 'done: every step went as expected' : `done: unexpected outcome of ${unexpected.join(', ')}`);
  return unexpected.length === 0;
}
