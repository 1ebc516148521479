import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/**
 * Output of `npm start`'s children, one line at a time behind a label (`[mandate]`, `[mcp]`), coloured on a
 * terminal. The authorization server logs pino JSON; those lines are shown as `INFO message key=value …`.
 */

const colours = { cyan: 36, magenta: 35, yellow: 33, grey: 90 } as const;
export type Colour = keyof typeof colours;

const useColour = process.stdout.isTTY === true && !('NO_COLOR' in process.env);

export function paint(text: string, colour: Colour): string {
  return useColour ? `\x1b[${colours[colour]}m${text}\x1b[0m` : text;
}

const levels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// `instance` tells several server processes apart in a shared log; one local server needs no such name.
const noise = new Set(['level', 'time', 'pid', 'hostname', 'instance', 'msg', 'v']);

/** A pino JSON line made readable; any other line unchanged. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry['level'] !== 'number' || typeof entry['msg'] !== 'string') return line;
  const fields = Object.entries(entry)
    .filter(([key]) => !noise.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const text = [levels[entry['level']] ?? String(entry['level']), entry['msg'], ...fields].join(' ');
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

/** Writes every line of `stream` to our stdout behind `label`; `onLine` sees each raw line too. */
export function pipeLabelled(stream: Readable, label: string, colour: Colour, onLine?: (line: string) => void): void {
  const prefix = paint(label, colour);
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    onLine?.(line);
    process.stdout.write(`${prefix} ${formatLogLine(line)}\n`);
  });
}
