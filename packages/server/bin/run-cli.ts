import { runCli } from '../src/cli/main.ts';

const status = await runCli(process.argv.slice(2));
// `serve` keeps running; every other command ends here.
if (process.argv[2] !== 'serve' || status !== 0) process.exitCode = status;
