import { cp, mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sample files committed with the example; copied, never written to, so the demo leaves the checkout clean. */
export const sampleSandboxDir = fileURLToPath(new URL('../sandbox/', import.meta.url));

/**
 * The sandbox directory to use: `configured` when set (it must exist), else `./.mandate/sandbox` next to the
 * embedded database, seeded with the samples the first time.
 */
export async function prepareSandboxDir(configured: string | undefined): Promise<string> {
  if (configured !== undefined) return resolve(configured);
  const directory = resolve('.mandate/sandbox');
  const exists = await stat(directory).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await mkdir(resolve('.mandate'), { recursive: true, mode: 0o700 });
    await cp(sampleSandboxDir, directory, { recursive: true });
  }
  return directory;
}
