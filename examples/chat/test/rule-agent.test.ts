import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planFor } from '../src/rule-agent.ts';

/** The offline agent's rules: each message maps to one plan, the same every time. */
test('offline agent: messages map to userinfo, tool calls with their arguments, or help', () => {
  assert.deepEqual(planFor('who am I logged in as?'), { kind: 'who_am_i' });
  assert.deepEqual(planFor('Which account am I signed in as'), { kind: 'who_am_i' });
  assert.deepEqual(planFor('add 2 and 3'), { kind: 'tool', tool: 'add', args: { a: 2, b: 3 } });
  assert.deepEqual(planFor('what is 1.5 + -4?'), { kind: 'tool', tool: 'add', args: { a: 1.5, b: -4 } });
  assert.deepEqual(planFor('list files'), { kind: 'tool', tool: 'list_files', args: { path: '.' } });
  assert.deepEqual(planFor('please list the files in notes.'), { kind: 'tool', tool: 'list_files', args: { path: 'notes' } });
  assert.deepEqual(planFor('read hello.txt'), { kind: 'tool', tool: 'read_file', args: { path: 'hello.txt' } });
  assert.deepEqual(planFor('write "hi there" to notes/hi.txt'), { kind: 'tool', tool: 'write_file', args: { path: 'notes/hi.txt', content: 'hi there' } });
  assert.deepEqual(planFor('run date -u'), { kind: 'tool', tool: 'run_command', args: { command: 'date -u' } });
  assert.deepEqual(planFor('Run the command `ls -l notes`.'), { kind: 'tool', tool: 'run_command', args: { command: 'ls -l notes' } });
  assert.deepEqual(planFor('what time is it?'), { kind: 'tool', tool: 'run_command', args: { command: 'date -u' } });
  assert.deepEqual(planFor('hello'), { kind: 'help' });
});
