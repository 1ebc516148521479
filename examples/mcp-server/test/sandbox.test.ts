import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { checkSandboxPath, Sandbox, SandboxError } from '../src/sandbox.ts';

const refused = (pattern: RegExp) => (err: unknown) => err instanceof SandboxError && pattern.test(err.message);

describe('checkSandboxPath: the string alone', () => {
  test('relative paths are normalised; the root is "."', () => {
    assert.equal(checkSandboxPath('.'), '.');
    assert.equal(checkSandboxPath(''), '.');
    assert.equal(checkSandboxPath('./notes//todo.md'), 'notes/todo.md');
    assert.equal(checkSandboxPath('notes/'), 'notes');
    assert.equal(checkSandboxPath('...'), '...', 'three dots is a file name, not traversal');
  });

  test('path traversal, absolute paths, backslashes and NUL are refused', () => {
    for (const path of ['..', '../etc/passwd', 'notes/../../x', 'a/b/../../..', './..']) assert.throws(() => checkSandboxPath(path), refused(/traversal/), path);
    for (const path of ['/etc/passwd', '//server/share', 'C:/Windows', 'c:x']) assert.throws(() => checkSandboxPath(path), refused(/absolute/), path);
    assert.throws(() => checkSandboxPath('..\\x'), refused(/separator/));
    assert.throws(() => checkSandboxPath('a\0b'), refused(/NUL/));
    assert.throws(() => checkSandboxPath(42), refused(/string/));
    assert.throws(() => checkSandboxPath('a/'.repeat(600)), refused(/too long/));
  });

  test('property: any accepted path resolves inside the root', () => {
    const root = '/srv/sandbox';
    const segment = fc.constantFrom('..', '.', '', 'a', 'b', '...', '.hidden', '%2e%2e', '..a', 'a..', '~', ' ');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.boolean(), (segments, leadingSlash) => {
        const path = (leadingSlash ? '/' : '') + segments.join('/');
        let checked: string;
        try {
          checked = checkSandboxPath(path);
        } catch (err) {
          return err instanceof SandboxError;
        }
        const inside = relative(root, resolve(root, checked));
        return inside !== '..' && !inside.startsWith('../') && !inside.startsWith('/');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Sandbox on a real directory', () => {
  let base: string;
  let root: string;
  let sandbox: Sandbox;

  // A fresh tree for every test: some tests write into it, and `list` asserts on all of it.
  beforeEach(async () => {
    base = mkdtempSync(join(tmpdir(), 'mandate-sandbox-test-'));
    root = join(base, 'sandbox');
    mkdirSync(join(root, 'notes'), { recursive: true });
    writeFileSync(join(root, 'hello.txt'), 'hello\n');
    writeFileSync(join(root, 'notes', 'todo.md'), '# todo\n');
    writeFileSync(join(root, 'binary.bin'), Buffer.from([1, 0, 2]));
    writeFileSync(join(base, 'secret.txt'), 'outside\n');
    mkdirSync(join(base, 'outside-dir'));
    writeFileSync(join(base, 'outside-dir', 'x.txt'), 'outside dir\n');
    symlinkSync(join(base, 'secret.txt'), join(root, 'link-out.txt'));
    symlinkSync(join(base, 'outside-dir'), join(root, 'dir-out'));
    symlinkSync(join(root, 'hello.txt'), join(root, 'link-in.txt'));
    symlinkSync(join(base, 'not-yet.txt'), join(root, 'dangling'));
    sandbox = await Sandbox.open(root, { maxFileBytes: 1024 });
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  test('list: entries sorted, symlinks listed without being followed, sizes of files', async () => {
    const { entries, truncated } = await sandbox.list('.');
    assert.equal(truncated, false);
    assert.deepEqual(
      entries.map((e) => [e.name, e.type]),
      [['binary.bin', 'file'], ['dangling', 'symlink'], ['dir-out', 'symlink'], ['hello.txt', 'file'], ['link-in.txt', 'symlink'], ['link-out.txt', 'symlink'], ['notes', 'directory']],
    );
    assert.equal(entries.find((e) => e.name === 'hello.txt')?.size, 6);
    assert.deepEqual((await sandbox.list('notes')).entries, [{ name: 'todo.md', type: 'file', size: 7 }]);
  });

  test('read: files inside, and symlinks that stay inside', async () => {
    assert.equal(await sandbox.read('hello.txt'), 'hello\n');
    assert.equal(await sandbox.read('notes/todo.md'), '# todo\n');
    assert.equal(await sandbox.read('link-in.txt'), 'hello\n');
  });

  test('a symlink pointing out of the sandbox is refused for read, list and write', async () => {
    await assert.rejects(sandbox.read('link-out.txt'), refused(/outside the sandbox/));
    await assert.rejects(sandbox.list('dir-out'), refused(/outside the sandbox/));
    await assert.rejects(sandbox.read('dir-out/x.txt'), refused(/outside the sandbox/));
    await assert.rejects(sandbox.write('dir-out/new.txt', 'x'), refused(/outside the sandbox/));
    await assert.rejects(sandbox.write('dir-out/deeper/new.txt', 'x'), refused(/outside the sandbox/));
    await assert.rejects(sandbox.write('link-out.txt', 'overwritten'), refused(/symlink/));
    await assert.rejects(sandbox.write('dangling', 'created outside?'), refused(/symlink/));
    assert.equal(existsSync(join(base, 'not-yet.txt')), false, 'a dangling symlink does not create a file outside');
    assert.equal(readFileSync(join(base, 'secret.txt'), 'utf8'), 'outside\n', 'the outside file is untouched');
    assert.deepEqual(execFileSync('ls', [join(base, 'outside-dir')], { encoding: 'utf8' }).trim().split('\n'), ['x.txt']);
  });

  test('traversal and absolute paths never reach the filesystem', async () => {
    await assert.rejects(sandbox.read('../secret.txt'), refused(/traversal/));
    await assert.rejects(sandbox.read(join(base, 'secret.txt')), refused(/absolute/));
    await assert.rejects(sandbox.list('..'), refused(/traversal/));
    await assert.rejects(sandbox.write('../evil.txt', 'x'), refused(/traversal/));
    await assert.rejects(sandbox.locate('/etc'), refused(/absolute/));
  });

  test('write creates directories, replaces files, and refuses the root, directories and oversized content', async () => {
    assert.deepEqual(await sandbox.write('out/deep/new.txt', 'new\n'), { path: 'out/deep/new.txt', bytes: 4 });
    assert.equal(await sandbox.read('out/deep/new.txt'), 'new\n');
    await sandbox.write('out/deep/new.txt', 'replaced\n');
    assert.equal(await sandbox.read('out/deep/new.txt'), 'replaced\n');
    await assert.rejects(sandbox.write('.', 'x'), refused(/must name a file/));
    await assert.rejects(sandbox.write('notes', 'x'), refused(/is a directory/));
    await assert.rejects(sandbox.write('hello.txt/x', 'x'), refused(/not a directory/));
    await assert.rejects(sandbox.write('big.txt', 'x'.repeat(1025)), refused(/larger than 1024/));
    await assert.rejects(sandbox.write('n.txt', 42), refused(/content must be a string/));
  });

  test('read refuses missing files, directories, binary and oversized files, and does not hang on a FIFO', async () => {
    await assert.rejects(sandbox.read('missing.txt'), refused(/no such file/));
    await assert.rejects(sandbox.read('notes'), refused(/not a file/));
    await assert.rejects(sandbox.read('binary.bin'), refused(/binary/));
    writeFileSync(join(root, 'large.txt'), 'x'.repeat(2048));
    await assert.rejects(sandbox.read('large.txt'), refused(/larger than 1024/));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    await assert.rejects(sandbox.read('fifo'), refused(/not a file/));
    await assert.rejects(sandbox.write('fifo', 'x'), refused(/not a regular file/));
  });
});
