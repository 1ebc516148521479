import { type AccessTokenClaims, mcpToolDetails } from '@mandate/protocol';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { accessTokenLife, type TokenLifecycleDeps } from '../lifecycle/token-lifecycle.ts';
import { invalidRequest, OAuthError } from '../oauth/oauth-error.ts';
import type { ActionTokenUseRecords, ResourceRecord, RevocationRecords } from '../store/store.ts';
import { verifyOwnAccessToken } from '../tokens/own-token.ts';

/**
 * The single use of an action token (issue 12 item 4). The MCP server that receives a tool call made with a token
 * carrying an `mcp_tool` authorization detail reports it here before running the tool (the SDK's MCP adapter does),
 * authenticated by its API key. The token must be alive, meant for this resource, and approved for exactly this
 * tool and these arguments (their SHA-256); then its use is recorded once: the first report wins, on every instance
 * alike (the store's primary key decides), and any later one is refused with `action_token_used`. The spent token
 * is then revoked, so that it reads as inactive everywhere else too.
 */

export interface ActionUseDeps {
  keys: KeyRing;
  issuer: string;
  lifecycle: TokenLifecycleDeps;
  uses: Pick<ActionTokenUseRecords, 'recordActionTokenUse' | 'getActionTokenUse'>;
  /** A spent token is revoked: introspection, exchange and the revocation-event stream then treat it as dead. */
  revocations: Pick<RevocationRecords, 'revokeTokenId'>;
  audit: Pick<AuditLog, 'record'>;
}

const useSchema = z
  .object({
    token: z.string().min(1).max(16_384),
    tool: z.string().min(1).max(200),
    arguments_sha256: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of the arguments'),
  })
  .strict();

export interface ActionUse {
  jti: string;
  tool: string;
  arguments_sha256: string;
  used_at: number;
}

/** 403: the token approves something else (another tool, other arguments, another server) or nothing at all. */
const actionMismatch = (description: string) => new OAuthError('action_mismatch', description, { status: 403 });

export function actionUseFlow(deps: ActionUseDeps) {
  async function refuseReuse(resource: ResourceRecord, claims: AccessTokenClaims, request: { tool: string; arguments_sha256: string }, usedAt: number | null): Promise<never> {
    await deps.audit.record({
      event: 'action.reuse_refused',
      actor: resource.uri,
      subject: claims.sub,
      clientId: claims.client_id,
      detail: { jti: claims.jti, tool: request.tool, arguments_sha256: request.arguments_sha256, first_used_at: usedAt },
    });
    throw new OAuthError('action_token_used', `the single-use action token was already used${usedAt !== null ? ` at ${new Date(usedAt * 1000).toISOString()}` : ''}`, { status: 409 });
  }

  return {
    parse(body: unknown): z.infer<typeof useSchema> {
      const parsed = useSchema.safeParse(body ?? {});
      if (!parsed.success) throw invalidRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
      return parsed.data;
    },

    async recordUse(resource: ResourceRecord, request: z.infer<typeof useSchema>, now: number): Promise<ActionUse> {
      const verified = await verifyOwnAccessToken(request.token, { keys: deps.keys, issuer: deps.issuer, now });
      if (!verified.ok) throw new OAuthError('invalid_token', `the action token is ${verified.reason}`, { status: 401 });
      const claims: AccessTokenClaims = verified.claims;
      // Spent before the lifecycle is asked: a spent token is also revoked, and "already used" is the precise answer.
      const earlier = await deps.uses.getActionTokenUse(claims.jti);
      if (earlier) return refuseReuse(resource, claims, request, earlier.usedAt);
      const life = await accessTokenLife(claims, deps.lifecycle, now);
      if (!life.alive) throw new OAuthError('invalid_token', 'the action token is no longer active', { status: 401 });
      if (!life.audiences.includes(resource.uri)) throw actionMismatch(`the token is not meant for ${resource.uri}`);
      const details = mcpToolDetails(claims.authorization_details);
      if (details.length === 0) throw actionMismatch('the token approves no tool call (it carries no mcp_tool authorization detail)');
      const detail = details.find((d) => d.locations.includes(resource.uri) && d.tool === request.tool);
      if (!detail) throw actionMismatch(`the token approves ${details.map((d) => d.tool).join(', ')}, not ${request.tool}`);
      if (detail.arguments_sha256 !== request.arguments_sha256) throw actionMismatch(`the token approves ${request.tool} with other arguments`);

      const audit = { actor: resource.uri, subject: claims.sub, clientId: claims.client_id };
      const first = await deps.uses.recordActionTokenUse({
        jti: claims.jti,
        resource: resource.uri,
        clientId: claims.client_id,
        subject: claims.sub,
        tool: request.tool,
        argumentsSha256: request.arguments_sha256,
        usedAt: now,
        expiresAt: claims.exp,
      });
      if (!first) return refuseReuse(resource, claims, request, (await deps.uses.getActionTokenUse(claims.jti))?.usedAt ?? null);
      await deps.revocations.revokeTokenId(claims.jti, claims.exp, now, [claims.aud].flat());
      await deps.audit.record({ event: 'action.used', ...audit, detail: { jti: claims.jti, tool: request.tool, arguments_sha256: request.arguments_sha256 } });
      return { jti: claims.jti, tool: request.tool, arguments_sha256: request.arguments_sha256, used_at: now };
    },
  };
}

export type ActionUseFlow = ReturnType<typeof actionUseFlow>;
