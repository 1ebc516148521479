import { invalidRequest } from './oauth-error.ts';

const NONE: ReadonlySet<string> = new Set();

/**
 * Parameters of an `application/x-www-form-urlencoded` body (RFC 6749 Appendix B). RFC 6749 §3.1/§3.2: parameters
 * without a value are treated as omitted, and a parameter sent more than once is an error unless the extension
 * that defines it allows repetition (`resource`, `audience`). No parameter's syntax (RFC 6749 Appendix A) admits a
 * NUL character, which PostgreSQL text cannot even hold: reading one is `invalid_request`.
 */
export class FormParams {
  readonly #values = new Map<string, string[]>();
  #withNul: Set<string> | undefined;

  constructor(body: string) {
    for (const [name, value] of new URLSearchParams(body)) {
      if (value === '') continue;
      if (value.includes('\u0000')) (this.#withNul ??= new Set()).add(name);
      const values = this.#values.get(name);
      if (values) values.push(value);
      else this.#values.set(name, [value]);
    }
  }

  /** The single value of `name`; a repeated parameter is `invalid_request`. */
  get(name: string): string | undefined {
    const values = this.#values.get(name);
    if (!values) return undefined;
    if (this.#withNul?.has(name)) throw invalidRequest(`parameter ${name} contains a NUL character`);
    if (values.length > 1) throw invalidRequest(`parameter ${name} must not be repeated`);
    return values[0];
  }

  /** The single value of a required parameter; a missing one is `invalid_request` (`<name> is required`). */
  required(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw invalidRequest(`${name} is required`);
    return value;
  }

  /** Every value of a parameter that may repeat. */
  getAll(name: string): string[] {
    if (this.#withNul?.has(name)) throw invalidRequest(`parameter ${name} contains a NUL character`);
    return this.#values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  names(): string[] {
    return [...this.#values.keys()];
  }

  /** Rejects any parameter outside `repeatable` that appears more than once. */
  rejectRepeated(repeatable: ReadonlySet<string> = NONE): void {
    for (const [name, values] of this.#values) {
      if (values.length > 1 && !repeatable.has(name)) throw invalidRequest(`parameter ${name} must not be repeated`);
    }
  }
}
