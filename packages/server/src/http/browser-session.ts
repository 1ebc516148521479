import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MandateConfig } from '../config.ts';
import type { SessionRecord, SessionRecords, UserRecord, UserRecords } from '../store/store.ts';
import { generateSecret, hashSecret } from '../tokens/secret.ts';
import { readCookie, serializeCookie } from './cookies.ts';
import { RateLimiter } from './rate-limit.ts';

/**
 * Browser sessions for the login, consent and account pages. The cookie holds a random 256-bit id; the store keeps
 * only its SHA-256. A session row is written only by a POST: a login, or a ceremony that needs server-side state
 * before one (a WebAuthn challenge, an upstream login's `state`); reading a page writes none (SR-13). A session anchors:
 * - the CSRF tokens of signed-in pages: HMAC-SHA256(session id, purpose). Only a holder of the HttpOnly cookie can
 *   compute one, nothing extra is stored, and a token dies with its session;
 * - WebAuthn challenges and upstream-login `state`.
 * Anonymous pages (the login page) use a second cookie instead, a random value that is never stored: their CSRF
 * token is HMAC-SHA256(that value, purpose), a double-submit token bound to an HttpOnly cookie.
 * Logging in replaces the session with a new id (no session fixation); logging out deletes it.
 */

export interface ActiveSession {
  /** The raw cookie value: never stored, never logged. */
  raw: string;
  record: SessionRecord;
}

export interface SignedInSession extends ActiveSession {
  user: UserRecord;
}

/** A session's last use is written at most this often: its idle timeout is minutes long, a write per page is not needed. */
const TOUCH_INTERVAL_SECONDS = 60;

type SessionStore = SessionRecords & Pick<UserRecords, 'getUser'>;

export class BrowserSessions {
  readonly #store: SessionStore;
  readonly #config: MandateConfig;
  readonly #now: () => number;
  readonly cookieName: string;
  /** The anonymous pages' CSRF cookie (never stored). */
  readonly csrfCookieName: string;
  readonly #cookiePath: string;
  readonly #secure: boolean;
  readonly #anonymousPerAddress: RateLimiter;

  constructor(store: SessionStore, config: MandateConfig, now: () => number) {
    this.#store = store;
    this.#config = config;
    this.#now = now;
    this.#anonymousPerAddress = new RateLimiter(config.users.anonymousSessionsPerIpPerMinute, () => now() * 1000);
    const issuer = new URL(config.issuer);
    this.#secure = issuer.protocol === 'https:';
    this.#cookiePath = issuer.pathname.replace(/\/$/, '') || '/';
    // RFC 6265bis §4.1.3: `__Host-` pins the cookie to this host and path /; `__Secure-` where the issuer has a path.
    const prefix = !this.#secure ? '' : this.#cookiePath === '/' ? '__Host-' : '__Secure-';
    this.cookieName = `${prefix}mandate_session`;
    this.csrfCookieName = `${prefix}mandate_csrf`;
  }

  /**
   * The CSRF token of an anonymous page, bound to the browser's CSRF cookie (set on `reply` when it has none or a
   * malformed one). Writes nothing to the store, so anyone may load the login page as often as they like.
   */
  anonymousCsrf(request: FastifyRequest, reply: FastifyReply): string {
    let raw = this.#csrfCookie(request);
    if (!raw) {
      raw = generateSecret();
      // No Max-Age: it lives as long as the browser, so a page left open still posts.
      reply.header('set-cookie', serializeCookie(this.csrfCookieName, raw, { path: this.#cookiePath, secure: this.#secure }));
    }
    return anonymousCsrfToken(raw);
  }

  /** Whether `presented` is the CSRF token of this browser's CSRF cookie. */
  anonymousCsrfMatches(request: FastifyRequest, presented: string | undefined): boolean {
    const raw = this.#csrfCookie(request);
    return raw !== undefined && tokensMatch(anonymousCsrfToken(raw), presented);
  }

  #csrfCookie(request: FastifyRequest): string | undefined {
    const raw = readCookie(request.headers.cookie, this.csrfCookieName);
    return raw && /^[A-Za-z0-9_-]{43}$/.test(raw) ? raw : undefined;
  }

  /** `touch: false` reads without counting a use (a live stream is not the person using the session). */
  async current(request: FastifyRequest, { touch = true }: { touch?: boolean } = {}): Promise<ActiveSession | null> {
    const raw = readCookie(request.headers.cookie, this.cookieName);
    if (!raw || !/^[A-Za-z0-9_-]{43}$/.test(raw)) return null;
    const now = this.#now();
    const record = await this.#store.getSession(hashSecret(raw), now);
    if (!record) return null;
    // The idle timeout beside the absolute one: a session unused for that long is over (its row goes at the next purge).
    if (record.userId !== null && now - record.lastSeenAt > this.#config.users.sessionIdleTimeoutSeconds) return null;
    if (touch && now - record.lastSeenAt >= TOUCH_INTERVAL_SECONDS) {
      await this.#store.touchSession(record.idHash, now);
      record.lastSeenAt = now;
    }
    return { raw, record };
  }

  /** The session's user, when someone is logged in and their account is still active. */
  async signedIn(request: FastifyRequest, options: { touch?: boolean } = {}): Promise<SignedInSession | null> {
    const session = await this.current(request, options);
    if (!session?.record.userId) return null;
    const user = await this.#store.getUser(session.record.userId);
    return user && user.status === 'active' ? { ...session, user } : null;
  }

  /**
   * The current session, or a new anonymous one (with its cookie set on `reply`); `{ retryAfter }` when this
   * address has started `users.anonymousSessionsPerIpPerMinute` already (SR-13: rows a stranger can cause are bounded).
   */
  async ensure(request: FastifyRequest, reply: FastifyReply): Promise<ActiveSession | { retryAfter: number }> {
    const current = await this.current(request);
    if (current) return current;
    const limited = this.#anonymousPerAddress.take(request.ip);
    if (limited) return { retryAfter: limited.retryAfter };
    return this.#create(reply, null, [], this.#config.users.anonymousSessionTtlSeconds);
  }

  /** Ends the current session and starts a signed-in one with a fresh id. */
  async login(request: FastifyRequest, reply: FastifyReply, userId: string, amr: string[]): Promise<ActiveSession> {
    const previous = await this.current(request);
    if (previous) await this.#store.deleteSession(previous.record.idHash);
    return this.#create(reply, userId, amr, this.#config.users.sessionTtlSeconds);
  }

  async logout(request: FastifyRequest, reply: FastifyReply): Promise<string | null> {
    const session = await this.current(request);
    if (session) await this.#store.deleteSession(session.record.idHash);
    reply.header('set-cookie', serializeCookie(this.cookieName, '', { path: this.#cookiePath, maxAgeSeconds: 0, secure: this.#secure }));
    return session?.record.userId ?? null;
  }

  async #create(reply: FastifyReply, userId: string | null, amr: string[], ttlSeconds: number): Promise<ActiveSession> {
    const raw = generateSecret();
    const now = this.#now();
    const record: SessionRecord = {
      idHash: hashSecret(raw),
      userId,
      authTime: userId ? now : null,
      amr,
      challenge: null,
      challengeExpiresAt: null,
      createdAt: now,
      expiresAt: now + ttlSeconds,
      lastSeenAt: now,
    };
    await this.#store.createSession(record);
    reply.header('set-cookie', serializeCookie(this.cookieName, raw, { path: this.#cookiePath, maxAgeSeconds: ttlSeconds, secure: this.#secure }));
    return { raw, record };
  }
}

/** The CSRF token of a session for one purpose (every form of a session shares the `form` purpose). */
export function csrfToken(session: ActiveSession, purpose = 'form'): string {
  return createHmac('sha256', session.raw).update(`mandate-csrf:${purpose}`).digest('base64url');
}

export function csrfTokenMatches(session: ActiveSession, presented: string | undefined, purpose = 'form'): boolean {
  return tokensMatch(csrfToken(session, purpose), presented);
}

const anonymousCsrfToken = (cookie: string) => createHmac('sha256', cookie).update('mandate-csrf:anonymous').digest('base64url');

function tokensMatch(expected: string, presented: string | undefined): boolean {
  if (!presented || presented.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(presented));
}
