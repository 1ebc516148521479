import type { AdminAgent, AdminProblem, AdminResource, AdminResourceScope } from '@mandate/protocol';
import { AdminRequestFailed } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier } from '../lib/issuer-url.ts';

/** Options of {@link MandateAdminClient}. */
export interface MandateAdminClientOptions extends HttpOptions {
  /** The Mandate server (its issuer URL); the admin API is at `<issuer>/admin/v1`. */
  issuer: string;
  /** An admin API token (`mad_…`, from `mandate admin-token create`). */
  adminToken: string;
}

/** What registering an agent takes (the admin API's `POST /agents` body). */
export interface NewAgent {
  name: string;
  description?: string | null;
  /** E-mail of the person responsible for it. */
  owner?: string | null;
  scopes?: readonly string[];
  /** Registered resources it may get tokens for. */
  audiences?: readonly string[];
  accessTokenTtlSeconds?: number | null;
  dpopBoundAccessTokens?: boolean;
  /** `private_key_jwt` needs `jwks` (public keys) and gets no secret. Default `client_secret_basic`. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  jwks?: { keys: Record<string, unknown>[] };
}

/** A change to an agent (`PATCH /agents/{id}`): only the members given change. */
export type AgentChange = Partial<Omit<NewAgent, 'tokenEndpointAuthMethod'>>;

/** What registering a resource server takes (`POST /resources`). */
export interface NewResource {
  /** Its canonical URI (RFC 8707), e.g. `https://mcp.example.com/mcp`. */
  resource: string;
  name?: string;
  /** Scope names (risk low, no description) or full definitions. */
  scopes?: readonly (string | (Pick<AdminResourceScope, 'name'> & Partial<AdminResourceScope>))[];
  defaultScopes?: readonly string[];
  /** Other registered resources it may exchange its tokens into (RFC 8693, for calls on the user's behalf). */
  downstreamResources?: readonly string[];
}

/** A change to a resource (`PATCH /resources/{id}`). */
export type ResourceChange = Partial<Omit<NewResource, 'resource'>>;

const defined = (entries: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));

const agentBody = (agent: AgentChange & { tokenEndpointAuthMethod?: NewAgent['tokenEndpointAuthMethod'] }) =>
  defined({
    name: agent.name,
    description: agent.description,
    owner: agent.owner,
    scopes: agent.scopes,
    audiences: agent.audiences,
    access_token_ttl_seconds: agent.accessTokenTtlSeconds,
    dpop_bound_access_tokens: agent.dpopBoundAccessTokens,
    token_endpoint_auth_method: agent.tokenEndpointAuthMethod,
    jwks: agent.jwks,
  });

const resourceBody = (resource: ResourceChange & { resource?: string }) =>
  defined({ resource: resource.resource, name: resource.name, scopes: resource.scopes, default_scopes: resource.defaultScopes, downstream_resources: resource.downstreamResources });

const graceBody = (options: { graceSeconds?: number }) => (options.graceSeconds === undefined ? {} : { grace_seconds: options.graceSeconds });

/**
 * The admin REST API (`/admin/v1`) for Node programs that provision agents and resources without the CLI: register
 * an agent, rotate its secret, disable or enable it, list, change and delete agents and resources. Every method
 * sends the admin token; a refusal is {@link AdminRequestFailed} with the RFC 9457 problem's kind (`not-found`,
 * `invalid-request` with field errors, `conflict`, `unauthorized` …), status and detail.
 *
 * @example
 * const admin = new MandateAdminClient({ issuer: 'https://auth.example.com', adminToken: process.env.MANDATE_ADMIN_TOKEN! });
 * const { agent, clientSecret } = await admin.registerAgent({ name: 'Research Assistant', scopes: ['calc'], audiences: ['https://mcp.example.com/mcp'] });
 * await admin.disableAgent(agent.client_id); // every token it holds is inactive at once
 */
export class MandateAdminClient {
  readonly issuer: string;
  readonly #authorization: string;
  readonly #http: HttpOptions;

  constructor(options: MandateAdminClientOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    assertIssuerIdentifier(options.issuer);
    if (typeof options.adminToken !== 'string' || options.adminToken === '') throw new TypeError('adminToken must be an admin API token (mad_…)');
    this.issuer = options.issuer;
    this.#authorization = `Bearer ${options.adminToken}`;
    this.#http = {};
    if (options.fetch !== undefined) this.#http.fetch = options.fetch;
    if (options.httpTimeoutMs !== undefined) this.#http.httpTimeoutMs = options.httpTimeoutMs;
  }

  // ── Agents ──────────────────────────────────────────────────────────────────────────────────────────────────

  /** Registers an agent; its client secret is returned once (null for `private_key_jwt`) and stored only hashed. */
  async registerAgent(agent: NewAgent): Promise<{ agent: AdminAgent; clientSecret: string | null }> {
    const { client_secret: secret, ...view } = await this.#send<AdminAgent & { client_secret?: string }>('POST', '/agents', agentBody(agent));
    return { agent: view, clientSecret: secret ?? null };
  }

  async listAgents(): Promise<AdminAgent[]> {
    return (await this.#send<{ agents: AdminAgent[] }>('GET', '/agents')).agents;
  }

  getAgent(clientId: string): Promise<AdminAgent> {
    return this.#send('GET', `/agents/${this.#segment(clientId)}`);
  }

  updateAgent(clientId: string, change: AgentChange): Promise<AdminAgent> {
    return this.#send('PATCH', `/agents/${this.#segment(clientId)}`, agentBody(change));
  }

  /** Replaces its secret (shown once); the old one works for `graceSeconds` (the server's default, 24 h; 0 ends it now). */
  async rotateAgentSecret(clientId: string, options: { graceSeconds?: number } = {}): Promise<{ agent: AdminAgent; clientSecret: string }> {
    const { client_secret: secret, ...view } = await this.#send<AdminAgent & { client_secret: string }>('POST', `/agents/${this.#segment(clientId)}/rotate-secret`, graceBody(options));
    return { agent: view, clientSecret: secret };
  }

  /** Disables it: every token it holds or acts in, and every grant naming it, ends at once; enabling revives none. */
  disableAgent(clientId: string): Promise<AdminAgent> {
    return this.#send('POST', `/agents/${this.#segment(clientId)}/disable`);
  }

  enableAgent(clientId: string): Promise<AdminAgent> {
    return this.#send('POST', `/agents/${this.#segment(clientId)}/enable`);
  }

  async deleteAgent(clientId: string): Promise<void> {
    await this.#send('DELETE', `/agents/${this.#segment(clientId)}`);
  }

  // ── Resources ───────────────────────────────────────────────────────────────────────────────────────────────

  /** Registers a resource server; its API key (introspection, downstream exchange) is returned once. */
  async registerResource(resource: NewResource): Promise<{ resource: AdminResource; apiKey: string }> {
    const { api_key: apiKey, ...view } = await this.#send<AdminResource & { api_key: string }>('POST', '/resources', resourceBody(resource));
    return { resource: view, apiKey };
  }

  async listResources(): Promise<AdminResource[]> {
    return (await this.#send<{ resources: AdminResource[] }>('GET', '/resources')).resources;
  }

  /** By its id (`res_…`) or its URI. */
  getResource(idOrUri: string): Promise<AdminResource> {
    return this.#send('GET', `/resources/${this.#segment(idOrUri)}`);
  }

  updateResource(idOrUri: string, change: ResourceChange): Promise<AdminResource> {
    return this.#send('PATCH', `/resources/${this.#segment(idOrUri)}`, resourceBody(change));
  }

  /** Replaces its API key (shown once); the old one works for `graceSeconds` (the server's default; 0 ends it now). */
  async rotateResourceKey(idOrUri: string, options: { graceSeconds?: number } = {}): Promise<{ resource: AdminResource; apiKey: string; previousKeyValidUntil: number | null }> {
    const answer = await this.#send<AdminResource & { api_key: string; previous_key_valid_until: number | null }>('POST', `/resources/${this.#segment(idOrUri)}/rotate-key`, graceBody(options));
    const { api_key: apiKey, previous_key_valid_until: previousKeyValidUntil, ...view } = answer;
    return { resource: view, apiKey, previousKeyValidUntil };
  }

  async deleteResource(idOrUri: string): Promise<void> {
    await this.#send('DELETE', `/resources/${this.#segment(idOrUri)}`);
  }

  #segment(id: string): string {
    if (typeof id !== 'string' || id === '') throw new TypeError('an id must be a non-empty string');
    return encodeURIComponent(id);
  }

  /** One admin API call: JSON in and out; anything but a 2xx is the problem it carries, as AdminRequestFailed. */
  async #send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.issuer.replace(/\/$/, '')}/admin/v1${path}`;
    const headers: Record<string, string> = { authorization: this.#authorization, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let answer;
    try {
      answer = await fetchJson(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, this.#http);
    } catch (cause) {
      throw new AdminRequestFailed(`could not reach ${url}`, { status: 0, cause });
    }
    if (answer.status >= 200 && answer.status < 300) return answer.json as T;
    const problem = isJsonObject(answer.json) ? (answer.json as Partial<AdminProblem>) : {};
    const kind = typeof problem.type === 'string' && problem.type.startsWith('urn:mandate:problem:') ? problem.type.slice('urn:mandate:problem:'.length) : undefined;
    const detail = typeof problem.detail === 'string' ? problem.detail : undefined;
    throw new AdminRequestFailed(`${method} ${path} answered ${answer.status}${detail === undefined ? '' : `: ${detail}`}`, {
      status: answer.status,
      ...(kind === undefined ? {} : { problem: kind }),
      ...(detail === undefined ? {} : { detail }),
      ...(Array.isArray(problem.errors) ? { errors: problem.errors } : {}),
    });
  }
}
