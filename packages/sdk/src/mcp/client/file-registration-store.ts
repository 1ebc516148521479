import { TokenStoreInsecure, TokenStoreLocked, TokenStoreMalformed } from '../../errors.ts';
import { isJsonObject } from '../../lib/fetch-json.ts';
import { fileLockOptions, PrivateJsonFile } from '../../lib/private-json-file.ts';
import type { ClientRegistration, ClientRegistrationStore } from './registration.ts';

interface RegistrationFile {
  version: 1;
  /** By issuer. */
  registrations: Record<string, ClientRegistration>;
}

export interface FileClientRegistrationStoreOptions {
  /** A lock file older than this is taken over. Default 30 s. */
  staleLockMs?: number;
  /** How long a write waits for the lock before `ERR_TOKEN_STORE_LOCKED`. Default 10 s. */
  lockTimeoutMs?: number;
  /** Epoch milliseconds, for lock ages and timeouts. Default `Date.now`. */
  now?: () => number;
}

/**
 * A {@link ClientRegistrationStore} in one JSON file, so that an MCP host registers once per authorization server
 * (RFC 7591) and not on every run: the next run finds its `client_id` (and a secret or RFC 7592 registration access
 * token, if the AS issued one) by issuer. The file holds credentials, so it is kept like `FileTokenStore`'s: mode
 * 0600, replaced atomically, refused when others could read or replace it. Its errors are the token store file's
 * (`ERR_TOKEN_STORE_INSECURE`, `ERR_TOKEN_STORE_MALFORMED`, `ERR_TOKEN_STORE_LOCKED`). It may be the same
 * directory as the token store, not the same file.
 *
 * @example
 * const registrationStore = new FileClientRegistrationStore(join(homedir(), '.config', 'my-host', 'registrations.json'));
 * const provider = await McpOAuthClientProvider.create({ serverUrl, registrationStore, tokenStore: new FileTokenStore(…) });
 */
export class FileClientRegistrationStore implements ClientRegistrationStore {
  readonly path: string;
  readonly #file: PrivateJsonFile<RegistrationFile>;

  constructor(path: string, options: FileClientRegistrationStoreOptions = {}) {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
    this.path = path;
    this.#file = new PrivateJsonFile(path, {
      lock: fileLockOptions(options, (lockPath) => new TokenStoreLocked(path, lockPath)),
      empty: () => ({ version: 1, registrations: Object.create(null) as Record<string, ClientRegistration> }),
      parse: (text) => parseRegistrationFile(path, text),
      insecure: (problem) => new TokenStoreInsecure(path, problem),
    });
  }

  async get(issuer: string): Promise<ClientRegistration | undefined> {
    return (await this.#file.read()).registrations[issuer];
  }

  set(issuer: string, registration: ClientRegistration): Promise<void> {
    if (!isClientRegistration(registration) || registration.issuer !== issuer) throw new TypeError('registration must be a ClientRegistration for this issuer');
    return this.#file.update((file) => {
      file.registrations[issuer] = structuredClone(registration);
      return true;
    });
  }

  delete(issuer: string): Promise<void> {
    return this.#file.update((file) => {
      if (!(issuer in file.registrations)) return false;
      delete file.registrations[issuer];
      return true;
    });
  }
}

const OPTIONAL_STRINGS = ['clientSecret', 'tokenEndpointAuthMethod', 'registrationAccessToken', 'registrationClientUri'] as const;

function isClientRegistration(value: unknown): value is ClientRegistration {
  if (!isJsonObject(value)) return false;
  if (typeof value['issuer'] !== 'string' || typeof value['clientId'] !== 'string' || value['clientId'] === '') return false;
  if (!['dynamic', 'metadata-document', 'pre-registered'].includes(value['kind'] as string)) return false;
  if (value['clientSecretExpiresAt'] !== undefined && typeof value['clientSecretExpiresAt'] !== 'number') return false;
  return OPTIONAL_STRINGS.every((member) => value[member] === undefined || typeof value[member] === 'string');
}

function parseRegistrationFile(path: string, text: string): RegistrationFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TokenStoreMalformed(path, { cause });
  }
  if (!isJsonObject(json) || json['version'] !== 1 || !isJsonObject(json['registrations'])) throw new TokenStoreMalformed(path);
  const registrations = Object.create(null) as Record<string, ClientRegistration>;
  for (const [issuer, value] of Object.entries(json['registrations'])) {
    if (!isClientRegistration(value) || value.issuer !== issuer) throw new TokenStoreMalformed(path);
    registrations[issuer] = value;
  }
  return { version: 1, registrations };
}
