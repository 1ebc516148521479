import { writeFileSync } from 'node:fs';

/** Writes the Markdown next to a results JSON (`<name>.json` → `<name>.md`) and returns its path. */
export function writeMarkdown(jsonPath: string, text: string): string {
  const path = jsonPath.replace(/\.json$/, '.md');
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
  return path;
}
