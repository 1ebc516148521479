import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CommandRefused, runAllowedCommand, splitCommandLine } from '../src/run-command.ts';
import { Sandbox } from '../src/sandbox.ts';

const refused = (pattern: RegExp) => (err: unknown) => err instanceof CommandRefused && pattern.test(err.message);

describe('splitCommandLine: words without a shell', () => {
  test('blanks separate, quotes group, nothing else is special', () => {
    assert.deepEqual(splitCommandLine('echo hello   world'), ['echo', 'hello', 'world']);
    assert.deepEqual(splitCommandLine(`echo "a b" 'c  d' e"f g"h ''`), ['echo', 'a b', 'c  d', 'ef gh', '']);
    assert.deepEqual(splitCommandLine('date; rm -rf /'), ['date;', 'rm', '-rf', '/']);
    assert.deepEqual(splitCommandLine('echo $HOME `id` $(id) a|b > /tmp/x'), ['echo', '$HOME', '`id`', '$(id)', 'a|b', '>', '/tmp/x']);
    assert.deepEqual(splitCommandLine('   '), []);
    assert.throws(() => splitCommandLine('echo "open'), refused(/unbalanced quote/));
  });
});

describe('runAllowedCommand', () => {
  let base: string;
  let sandbox: Sandbox;

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'mandate-run-command-'));
    mkdirSync(join(base, 'sandbox', 'notes'), { recursive: true });
    writeFileSync(join(base, 'sandbox', 'notes', 'todo.md'), '# todo\n');
    symlinkSync('/etc', join(base, 'sandbox', 'etc-link'));
    sandbox = await Sandbox.open(join(base, 'sandbox'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  test('an allow-listed command runs in the sandbox and reports its output and exit code', async () => {
    const echo = await runAllowedCommand('echo hello "big world"', { sandbox });
    assert.deepEqual(echo, { command: 'echo', args: ['hello', 'big world'], exit_code: 0, signal: null, stdout: 'hello big world\n', stderr: '', timed_out: false, truncated: false });
    assert.match((await runAllowedCommand('date -u +%Y', { sandbox })).stdout, /^\d{4}\n$/);
    assert.equal((await runAllowedCommand('ls', { sandbox })).stdout, 'etc-link\nnotes\n', 'the working directory is the sandbox');
    assert.equal((await runAllowedCommand('ls -1 notes', { sandbox })).stdout, 'todo.md\n');
    const missing = await runAllowedCommand('ls nothing-here', { sandbox }).catch((err: Error) => err);
    assert.ok(missing instanceof CommandRefused, 'ls of a missing path is refused before running');
  });

  test('no shell: metacharacters are plain arguments', async () => {
    const result = await runAllowedCommand('echo $HOME `id` $(id) ; uname > /tmp/x | cat', { sandbox });
    assert.equal(result.stdout, '$HOME `id` $(id) ; uname > /tmp/x | cat\n');
  });

  test('programs off the allow-list are refused, whatever their spelling', async () => {
    for (const line of ['rm -rf /', 'bash -c id', 'sh', '/bin/echo hi', './echo', 'env', 'cat /etc/passwd', 'node -e 1', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await assert.rejects(runAllowedCommand(line, { sandbox }), refused(/not on the allow-list/), line);
    }
    await assert.rejects(runAllowedCommand('', { sandbox }), refused(/empty/));
    await assert.rejects(runAllowedCommand(42, { sandbox }), refused(/must be a string/));
  });

  test('arguments that would read files or leave the sandbox are refused', async () => {
    await assert.rejects(runAllowedCommand('date -f /etc/passwd', { sandbox }), refused(/not allowed/));
    await assert.rejects(runAllowedCommand('date --file=/etc/passwd', { sandbox }), refused(/not allowed/));
    await assert.rejects(runAllowedCommand('date -r /etc/shadow', { sandbox }), refused(/not allowed/));
    await assert.rejects(runAllowedCommand('date -s 2000-01-01', { sandbox }), refused(/not allowed/));
    await assert.rejects(runAllowedCommand('ls /', { sandbox }), refused(/absolute/));
    await assert.rejects(runAllowedCommand('ls ..', { sandbox }), refused(/traversal/));
    await assert.rejects(runAllowedCommand('ls etc-link/', { sandbox }), refused(/outside the sandbox/));
    await assert.rejects(runAllowedCommand('ls -L', { sandbox }), refused(/option "-L" is not allowed/));
    await assert.rejects(runAllowedCommand('ls --color=always', { sandbox }), refused(/not allowed/));
    await assert.rejects(runAllowedCommand('whoami --help', { sandbox }), refused(/at most 0 arguments/));
  });

  test('output is capped and the cap reported', async () => {
    const result = await runAllowedCommand(`echo ${'x'.repeat(400)}`, { sandbox, maxOutputBytes: 100 });
    assert.equal(result.truncated, true);
    assert.ok(result.stdout.length <= 100);
    assert.equal(result.exit_code, null);
  });
});
