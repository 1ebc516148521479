/**
 * What the chat page shows: an ordered list of entries, each rendered on the server (page.ts). An entry can change
 * after it was added (a sign-in that completed, an approval that was decided); listeners (the page's event stream)
 * hear of every addition and change.
 */

export type ApprovalStatus = 'waiting' | 'approved' | 'denied' | 'expired' | 'refused';

export type EntryBody =
  | { kind: 'user'; text: string }
  | { kind: 'agent'; text: string }
  /** One tool call and what became of it. */
  | { kind: 'tool'; tool: string; args: Record<string, unknown>; ok: boolean; text: string }
  /** The agent needs the person to sign in and approve it (an authorization request, in a popup). */
  | { kind: 'sign_in'; done: boolean; who?: string; error?: string }
  /** A tool call needs scopes the person's token lacks: a CIBA request waits in the approval queue. */
  | { kind: 'approval'; tool: string; scopes: string[]; binding: string; status: ApprovalStatus; reason?: string };

export type Entry = EntryBody & { id: number };

export type TranscriptListener = (entry: Entry) => void;

/** At most this many entries are kept; the oldest go first (a demo, not an archive). */
const MAX_ENTRIES = 200;

export class Transcript {
  readonly #entries: Entry[] = [];
  readonly #listeners = new Set<TranscriptListener>();
  #nextId = 1;

  get entries(): readonly Entry[] {
    return this.#entries;
  }

  add<B extends EntryBody>(body: B): B & { id: number } {
    const entry = { ...body, id: this.#nextId++ };
    this.#entries.push(entry);
    if (this.#entries.length > MAX_ENTRIES) this.#entries.shift();
    this.#emit(entry);
    return entry;
  }

  /** Changes an entry in place (same id) and tells the listeners. */
  update<K extends Entry['kind']>(entry: Entry & { kind: K }, patch: Partial<Extract<EntryBody, { kind: K }>>): void {
    Object.assign(entry, patch);
    this.#emit(entry);
  }

  subscribe(listener: TranscriptListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(entry: Entry): void {
    for (const listener of this.#listeners) listener(entry);
  }
}
