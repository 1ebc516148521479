import type { Reporter } from '../../src/reporter.ts';

/** A reporter that keeps the events, as `--json` would print them. */
export function recordingReporter(): Reporter & { events: Record<string, unknown>[]; named(name: string): Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  return {
    events,
    event(name, data) {
      events.push({ event: name, ...data });
    },
    named: (name) => events.filter((e) => e['event'] === name),
  };
}
