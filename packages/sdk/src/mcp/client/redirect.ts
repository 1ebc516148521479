import { PendingAuthorizations } from '../../agent/authorization-request.ts';
import type { PendingAuthorization } from '../../agent/authorization-request.ts';
import { verifyAuthorizationResponse } from '../../agent/authorization-response.ts';
import type { AuthorizationResponse } from '../../agent/authorization-response.ts';
import { listenForCallback } from '../../agent/loopback.ts';
import type { LoopbackListener } from '../../agent/loopback.ts';
import { AuthorizationStateMismatch } from '../../errors.ts';
import type { LoopbackRedirect } from './options.ts';

/**
 * The browser's way back to an MCP client: the authorization requests in flight, the verification of each response
 * (`state`, RFC 9207 `iss`, `error`, `code`: the agent client's checks), and, for a client on a loopback redirect
 * (RFC 8252 §7.3), a one-shot listener per authorization on one port chosen at `start()`.
 */
export class AuthorizationRedirects {
  readonly #pending: PendingAuthorizations;
  readonly #loopback: Required<LoopbackRedirect> | undefined;
  readonly #fixedRedirectUri: string | undefined;
  #port: number | undefined;
  #listener: LoopbackListener<string> | undefined;
  #listenerDone = true;
  #outcome: { promise: Promise<string>; resolve(code: string): void; reject(err: unknown): void } | undefined;
  #redeeming: AuthorizationResponse | undefined;

  constructor(redirect: LoopbackRedirect | { redirectUri: string } | undefined, clock: () => number) {
    this.#pending = new PendingAuthorizations(clock);
    if (redirect !== undefined && 'redirectUri' in redirect) {
      if (typeof redirect.redirectUri !== 'string' || !URL.canParse(redirect.redirectUri)) throw new TypeError('redirect.redirectUri must be an absolute URI');
      this.#fixedRedirectUri = redirect.redirectUri;
      return;
    }
    const loopback = redirect ?? {};
    this.#loopback = { host: loopback.host ?? '127.0.0.1', port: loopback.port ?? 0, path: loopback.path ?? '/callback', timeoutMs: loopback.timeoutMs ?? 300_000 };
  }

  get isLoopback(): boolean {
    return this.#loopback !== undefined;
  }

  /** The redirect URI: the application's, or the loopback one once {@link start} chose its port. */
  get redirectUri(): string | undefined {
    if (this.#fixedRedirectUri !== undefined) return this.#fixedRedirectUri;
    if (this.#port === undefined) return undefined;
    const { host, path } = this.#loopback!;
    return `http://${host === '::1' ? '[::1]' : host}:${this.#port}${path}`;
  }

  /** Binds the loopback listener (its port is then fixed for every later authorization). */
  async start(): Promise<void> {
    if (this.#loopback === undefined || this.#port !== undefined) return;
    await this.#listen(this.#loopback.port);
  }

  /** Stops listening; an authorization still waiting rejects with an `AbortError`. */
  async close(): Promise<void> {
    await this.#listener?.close();
  }

  /** Remembers an authorization request about to be shown to the user, and makes sure a listener waits for it. */
  async expect(pending: PendingAuthorization): Promise<void> {
    this.#pending.add(pending);
    let resolve!: (code: string) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
    // Nobody may be waiting yet (the callback can arrive before the caller asks): no unhandled rejection.
    promise.catch(() => undefined);
    this.#outcome = { promise, resolve, reject };
    if (this.#loopback !== undefined && this.#listenerDone) {
      // The previous one-shot listener may still be closing its socket on the port about to be bound again.
      await this.#listener?.close();
      await this.#listen(this.#port ?? this.#loopback.port);
    }
  }

  /** The code of the latest authorization, once its response was verified (rejects with the verification's error). */
  next(): Promise<string> {
    if (this.#outcome === undefined) return Promise.reject(new TypeError('no authorization has been started'));
    return this.#outcome.promise;
  }

  /**
   * Verifies an authorization response (see {@link verifyAuthorizationResponse}) and hands its code to whoever waits
   * for it. Throws the coded error of a response that fails (and the waiter gets it too), except for an unknown
   * `state`, which is no answer to anything this client asked.
   */
  handle(callback: URL): string {
    let response: AuthorizationResponse;
    try {
      response = verifyAuthorizationResponse(callback, this.#pending);
    } catch (err) {
      if (!(err instanceof AuthorizationStateMismatch)) this.#outcome?.reject(err);
      throw err;
    }
    this.#redeeming = response;
    this.#outcome?.resolve(response.code);
    return response.code;
  }

  /** The verified response whose code is being redeemed: its PKCE verifier, issuer, scope and resources. */
  get redeeming(): AuthorizationResponse | undefined {
    return this.#redeeming;
  }

  forgetRedemption(): void {
    this.#redeeming = undefined;
  }

  async #listen(port: number): Promise<void> {
    const loopback = this.#loopback!;
    const listener = await listenForCallback<string>({
      host: loopback.host,
      port,
      path: loopback.path,
      timeoutMs: loopback.timeoutMs,
      handle: async (url) => this.handle(url),
      isIgnorable: (err) => err instanceof AuthorizationStateMismatch,
    });
    this.#listener = listener;
    this.#listenerDone = false;
    this.#port = Number(new URL(listener.redirectUri).port);
    const done = (err?: unknown) => {
      if (this.#listener === listener) this.#listenerDone = true;
      // A timeout or close ends the authorization it was waiting for; a verification error already reached it.
      if (err !== undefined) this.#outcome?.reject(err);
    };
    listener.result.then(() => done(), done);
  }
}
