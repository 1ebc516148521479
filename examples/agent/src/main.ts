import { runChatLoop } from './chat-loop.ts';
import { agentConfig, agentHelp, UsageError } from './config.ts';
import { openMcpSession } from './mcp-session.ts';
import { createReporter } from './reporter.ts';
import { runScriptedPlan } from './scripted-plan.ts';
import { runStdinPlan } from './stdin-plan.ts';

/** `node examples/agent/src/main.ts`: exit 0 when the plan went as expected, 1 when not, 2 on a usage mistake. */

let config;
try {
  config = agentConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof UsageError) && !(err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw err;
  process.stderr.write(`${(err as Error).message}\n\n${agentHelp}\n`);
  process.exit(2);
}
if (config === 'help') {
  process.stdout.write(`${agentHelp}\n`);
  process.exit(0);
}

const reporter = createReporter(config.json);
reporter.event('start', { client_id: config.clientId, mcp_url: config.mcpUrl, mode: config.mode, scope: config.scope }, `agent ${config.clientId} → ${config.mcpUrl} (${config.mode} mode, scope "${config.scope}")`);

let ok = false;
try {
  const session = await openMcpSession({ ...config, reporter });
  try {
    if (config.mode === 'scripted') ok = await runScriptedPlan(session, reporter);
    else if (config.mode === 'stdin') ok = await runStdinPlan(session, reporter);
    else ok = await runChatLoop(session, reporter, config.chat);
  } finally {
    await session.close();
  }
} catch (err) {
  reporter.event('error', { message: (err as Error).message }, `error: ${(err as Error).message}`);
}
process.exitCode = ok ? 0 : 1;
