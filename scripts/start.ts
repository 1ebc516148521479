/** `npm start`: the authorization server on http://localhost:8787 with the embedded store (or MANDATE_DATABASE_URL). */
import { runCli } from '../packages/server/src/cli/main.ts';

const status = await runCli(['serve', ...process.argv.slice(2)]);
if (status !== 0) process.exitCode = status;
