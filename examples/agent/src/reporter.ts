/**
 * How the agent tells what it does: a readable line per event, or with `--json` one JSON object per line
 * (`{"event": "step", …}`), which the end-to-end tests read. Never a token or a secret, in either form.
 */
export interface Reporter {
  event(name: string, data: Record<string, unknown>, human: string): void;
}

export function createReporter(json: boolean, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Reporter {
  return {
    event(name, data, human) {
      write(json ? JSON.stringify({ event: name, ...data }) : human);
    },
  };
}
