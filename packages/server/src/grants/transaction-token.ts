import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  GRANT_TYPE_TOKEN_EXCHANGE,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
  TOKEN_TYPE_REFRESH_TOKEN,
  TOKEN_TYPE_TXN_TOKEN,
  txnTokenScopes,
} from '@mandate/protocol';
import { z } from 'zod';
import type { KeyRing } from '../keys/key-ring.ts';
import { type TokenLifecycleDeps, verifyLiveAccessToken } from '../lifecycle/token-lifecycle.ts';
import { type LiveTxnToken, type TxnTokenLifeDeps, verifyLiveTxnToken } from '../lifecycle/transaction-token-life.ts';
import type { FormParams } from '../oauth/form-params.ts';
import { invalidRequest, invalidScope, invalidTarget, unauthorizedClient } from '../oauth/oauth-error.ts';
import { parseScope } from '../oauth/target-parameters.ts';
import { findUnstorable } from '../store/storable-text.ts';
import { type ClientRecord, type ResourceRecord, type RevocationRecords, StoreInputError, type TransactionTokenRecords, type TransactionTokenWorkload } from '../store/store.ts';
import { mintTxnToken } from '../tokens/transaction-token.ts';
import type { GrantResult } from './grant.ts';

/**
 * The Transaction Token Service (draft-ietf-oauth-transaction-tokens-10, issue 11 item 5): the token-exchange
 * profile a registered workload calls with `requested_token_type=urn:ietf:params:oauth:token-type:txn_token`.
 *
 * - Requesters (TT-01): an agent authenticated as a client, or a resource server authenticated by its API key, each
 *   only when its registration allows Txn-Tokens (`txn_tokens`, off by default).
 * - Subjects: an access token of ours the requester holds (an agent: issued to it or naming it as the current
 *   actor; a resource server: in its audience), alive (TT-04); or a Txn-Token of ours, for a replacement (TT-09).
 *   Self-signed and unsigned subjects (§6.2.1, §6.2.2) are not accepted: their scope cannot be bounded by anything
 *   Mandate issued (§9.11), and an authenticated workload can present its own access token instead.
 * - Issued: `typ: txntoken+jwt`, `aud` = the trust domain, a new `txn`, the subject's `sub`, the requested `scope`
 *   (never wider than the subject token's, TT-05), `req_wl`, `tctx` from `request_details`, `rctx` from
 *   `request_context` plus what Mandate asserts; for the configured lifetime, never beyond the subject's expiry;
 *   `token_type: N_A`, no refresh token ever (TT-08). A replacement keeps `txn`, `sub`, `aud`, `rctx`, narrows scope
 *   and `tctx` or keeps them, never widens either, never outlives the replaced token.
 * - Lifecycle: each Txn-Token's parent is recorded in the lineage and its root's claims in its row, so revoking any
 *   token of its chain (or disabling a party) makes it inactive (lifecycle/transaction-token-life.ts).
 */

export interface TransactionTokenDeps extends Omit<TxnTokenLifeDeps, 'records'> {
  keys: KeyRing;
  issuer: string;
  trustDomain: string;
  ttlSeconds: number;
  lifecycle: TokenLifecycleDeps;
  records: Pick<TransactionTokenRecords, 'getTransactionToken'>;
  lineage: Pick<RevocationRecords, 'recordDerivation'>;
}

/** The authenticated caller: a client (an agent, or an application, which is refused) or a resource server. */
export type TxnTokenRequester = { kind: 'client'; client: ClientRecord; method: string } | { kind: 'resource'; resource: ResourceRecord };

export interface TxnTokenRequest {
  subjectToken: string;
  /** `access`: an access token of ours (access_token or jwt); `txn`: a Txn-Token to replace. */
  subject: 'access' | 'txn';
  /** Undefined when the request has no `scope` (allowed for a replacement only). */
  scopes: string[] | undefined;
  requestContext: Record<string, unknown> | undefined;
  requestDetails: Record<string, unknown> | undefined;
}

/** Largest `request_context` or `request_details` accepted: both travel inside the token, in every internal call. */
const MAX_CONTEXT_BYTES = 4096;
const jsonObject = z.record(z.string(), z.unknown());

/** A JSON-object parameter (§6.1 `request_context`, `request_details`), or undefined when absent. */
function jsonObjectParameter(params: FormParams, name: string): Record<string, unknown> | undefined {
  const raw = params.get(name);
  if (raw === undefined) return undefined;
  if (Buffer.byteLength(raw) > MAX_CONTEXT_BYTES) throw invalidRequest(`${name} is larger than ${MAX_CONTEXT_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalidRequest(`${name} must be a JSON object`);
  }
  const parsed = jsonObject.safeParse(value);
  if (!parsed.success || Array.isArray(value)) throw invalidRequest(`${name} must be a JSON object`);
  return parsed.data;
}

const workloadOf = (requester: TxnTokenRequester): TransactionTokenWorkload =>
  requester.kind === 'resource' ? { kind: 'resource', id: requester.resource.uri } : { kind: 'agent', id: requester.client.clientId };

/** §9.10 issuance policy: only agents and resource servers whose registration allows it. */
function checkRequester(requester: TxnTokenRequester): void {
  if (requester.kind === 'client' && requester.client.kind !== 'agent') throw unauthorizedClient('only agents and resource servers may request Txn-Tokens');
  const allowed = requester.kind === 'client' ? requester.client.txnTokensAllowed : requester.resource.txnTokensAllowed;
  if (allowed !== true) {
    const who = requester.kind === 'client' ? `agent ${requester.client.clientId}` : `resource server ${requester.resource.uri}`;
    throw unauthorizedClient(`${who} may not request Txn-Tokens (its txn_tokens setting is off)`);
  }
}

/** Where a replacement's `request_details` adds or changes a member of the replaced token's `tctx`, or null. */
function tctxWidening(original: Record<string, unknown> | undefined, narrowed: Record<string, unknown>): string | null {
  for (const [member, value] of Object.entries(narrowed)) {
    if (original === undefined || !Object.hasOwn(original, member)) return `"${member}" is not in the Txn-Token's tctx`;
    if (!isDeepStrictEqual(original[member], value)) return `"${member}" differs from the Txn-Token's tctx`;
  }
  return null;
}

export function transactionTokenService(deps: TransactionTokenDeps) {
  const { trustDomain } = deps;

  /** Mints, records the lineage and the row, and builds the response and its audit row. */
  async function issue(input: {
    requester: TxnTokenRequester;
    content: Parameters<typeof mintTxnToken>[0];
    parentJti: string;
    rootClaims: Record<string, unknown>;
    workloads: TransactionTokenWorkload[];
    replacement: boolean;
    now: number;
  }): Promise<GrantResult> {
    const { token, claims } = await mintTxnToken(input.content, { keys: deps.keys, issuer: deps.issuer, now: input.now });
    // Lineage: revoking the subject token (or the replaced Txn-Token) revokes this one; a revocation racing wins.
    if (!(await deps.lineage.recordDerivation(claims.jti, [input.parentJti], claims.exp, [claims.aud].flat()))) {
      throw invalidRequest('subject_token is not valid (inactive)', 'a parent token was revoked while the Txn-Token was issued');
    }
    // Written with the audit row (GrantResult.records); text the store cannot hold is refused here, for this request
    // alone, rather than fail the audit batch it would share with others.
    const record = { jti: claims.jti, txn: claims.txn, rootClaims: input.rootClaims, workloads: input.workloads, createdAt: input.now, expiresAt: claims.exp };
    const unstorable = findUnstorable(record);
    if (unstorable) throw new StoreInputError(`the transaction token's ${unstorable.path || 'claims'} contain ${unstorable.problem}, which cannot be stored`);
    const workload = workloadOf(input.requester);
    return {
      // TT-08: N_A, the txn_token type, never a refresh token.
      response: { access_token: token, issued_token_type: TOKEN_TYPE_TXN_TOKEN, token_type: 'N_A', expires_in: claims.exp - input.now, scope: claims.scope },
      audit: {
        event: 'token.issued',
        actor: workload.id,
        subject: claims.sub,
        clientId: input.requester.kind === 'client' ? input.requester.client.clientId : null,
        // TT-12: the claims that identify the token, never the token (nor its tctx/rctx, which may hold personal data).
        detail: {
          grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
          issued_token_type: TOKEN_TYPE_TXN_TOKEN,
          replacement: input.replacement,
          txn: claims.txn,
          jti: claims.jti,
          parent_jtis: [input.parentJti],
          req_wl: claims.req_wl,
          aud: claims.aud,
          scope: claims.scope,
          exp: claims.exp,
        },
      },
      records: { transactionTokens: [record] },
    };
  }

  /** A new transaction from an access token the requester holds. */
  async function fromAccessToken(requester: TxnTokenRequester, request: TxnTokenRequest, now: number, ip: string): Promise<GrantResult> {
    if (request.scopes === undefined) throw invalidRequest('scope is required: the purpose of the transaction');
    if (request.requestContext !== undefined && Object.hasOwn(request.requestContext, 'req_wl_chain')) {
      throw invalidRequest('request_context must not set req_wl_chain: Mandate records the requesting workloads');
    }
    const live = await verifyLiveAccessToken(request.subjectToken, { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle });
    if (!live.ok) throw invalidRequest(`subject_token is not valid (${live.reason})`);
    const subject = live.claims;
    const workload = workloadOf(requester);
    if (requester.kind === 'resource' ? !live.life.audiences.includes(workload.id) : subject.client_id !== workload.id && subject.act?.sub !== workload.id) {
      throw invalidRequest(
        requester.kind === 'resource'
          ? `the subject token's audience is not this resource server (${workload.id})`
          : `the subject token was not issued to this agent (${workload.id}): it is neither its client nor its current actor`,
      );
    }
    // TT-05 (§9.11): never wider than what the subject token may still carry; a token without scope bounds nothing.
    const beyond = request.scopes.filter((s) => !live.life.scopes.includes(s));
    if (beyond.length > 0) throw invalidScope(`scope ${beyond.join(' ')} exceeds the subject token's scope`);

    const grant = live.life.grant?.alive ? live.life.grant.grant : null;
    const rctx: Record<string, unknown> = {
      ...request.requestContext,
      // The originating request's address when the requester (a gateway) states it, else the requester's own.
      req_ip: typeof request.requestContext?.['req_ip'] === 'string' ? request.requestContext['req_ip'] : ip,
      ...(grant && grant.amr.length > 0 ? { authn: grant.amr.join(' ') } : {}),
      req_wl_chain: [workload.id],
    };
    return issue({
      requester,
      content: {
        txn: randomUUID(),
        sub: subject.sub,
        trustDomain,
        scopes: request.scopes,
        requestingWorkload: workload.id,
        tctx: request.requestDetails,
        rctx,
        exp: Math.min(now + deps.ttlSeconds, subject.exp),
      },
      parentJti: subject.jti,
      // TT-07: the access token itself is never kept, only its claims (to re-check its chain).
      rootClaims: subject,
      workloads: [workload],
      replacement: false,
      now,
    });
  }

  /** TT-09: a replacement of a live Txn-Token for a downstream call: same txn, sub, aud and rctx; never wider. */
  async function replace(requester: TxnTokenRequester, request: TxnTokenRequest, now: number): Promise<GrantResult> {
    if (request.requestContext !== undefined) throw invalidRequest('request_context cannot be changed by a replacement: the Txn-Token keeps its rctx');
    const live: LiveTxnToken | { ok: false; reason: string; detail?: string } = await verifyLiveTxnToken(request.subjectToken, deps, now);
    if (!live.ok) throw invalidRequest(`subject_token is not valid (${live.reason})`, live.detail);
    const original = live.claims;
    const held = txnTokenScopes(original);
    const scopes = request.scopes ?? held;
    const wider = scopes.filter((s) => !held.includes(s));
    if (wider.length > 0) throw invalidScope(`scope ${wider.join(' ')} exceeds the Txn-Token's scope (${original.scope}): a replacement never widens it`);
    const lost = scopes.filter((s) => !live.root.scopes.includes(s));
    if (lost.length > 0) throw invalidScope(`scope ${lost.join(' ')} is no longer allowed to the transaction's subject token`);
    if (request.requestDetails !== undefined) {
      const widening = tctxWidening(original.tctx, request.requestDetails);
      if (widening) throw invalidRequest(`request_details may only drop members of the Txn-Token's tctx: ${widening}`);
    }
    const workload = workloadOf(requester);
    const chain = Array.isArray(original.rctx?.['req_wl_chain']) ? (original.rctx['req_wl_chain'] as unknown[]) : [original.req_wl];
    return issue({
      requester,
      content: {
        txn: original.txn,
        sub: original.sub,
        trustDomain,
        scopes,
        requestingWorkload: workload.id,
        tctx: request.requestDetails ?? original.tctx,
        // §9.12: the call chain of requesting workloads is kept, this one appended.
        rctx: { ...original.rctx, req_wl_chain: [...chain, workload.id] },
        exp: Math.min(now + deps.ttlSeconds, original.exp),
      },
      parentJti: original.jti,
      rootClaims: live.record.rootClaims,
      workloads: [...live.record.workloads, workload],
      replacement: true,
      now,
    });
  }

  return {
    /** TT-02, TT-03: the profile's parameters, refused precisely before anything is looked up. */
    parse(params: FormParams): TxnTokenRequest {
      const subjectToken = params.get('subject_token');
      const subjectTokenType = params.get('subject_token_type');
      if (!subjectToken || !subjectTokenType) throw invalidRequest('subject_token and subject_token_type are required');
      let subject: TxnTokenRequest['subject'];
      if (subjectTokenType === TOKEN_TYPE_ACCESS_TOKEN || subjectTokenType === TOKEN_TYPE_JWT) subject = 'access';
      else if (subjectTokenType === TOKEN_TYPE_TXN_TOKEN) subject = 'txn';
      else if (subjectTokenType === TOKEN_TYPE_REFRESH_TOKEN) throw invalidRequest('a refresh token cannot be the subject of a Txn-Token request');
      else throw invalidRequest(`subject_token_type ${subjectTokenType} is not supported for Txn-Tokens: send an access token of this server (access_token or jwt) or a Txn-Token to replace (txn_token)`);
      if (params.get('actor_token') !== undefined || params.get('actor_token_type') !== undefined) {
        throw invalidRequest('actor_token is not used in a Txn-Token request: the requesting workload authenticates as itself');
      }
      if (params.getAll('resource').length > 0) throw invalidRequest('resource is not used in a Txn-Token request: its audience is the trust domain');
      const audiences = params.getAll('audience');
      if (audiences.length === 0) throw invalidRequest(`audience is required: the trust domain (${trustDomain})`);
      if (audiences.length > 1 || audiences[0] !== trustDomain) throw invalidTarget(`audience must be exactly this trust domain (${trustDomain})`);
      return {
        subjectToken,
        subject,
        scopes: parseScope(params.get('scope')),
        requestContext: jsonObjectParameter(params, 'request_context'),
        requestDetails: jsonObjectParameter(params, 'request_details'),
      };
    },

    async handle({ requester, request, now, ip }: { requester: TxnTokenRequester; request: TxnTokenRequest; now: number; ip: string }): Promise<GrantResult> {
      checkRequester(requester);
      return request.subject === 'access' ? fromAccessToken(requester, request, now, ip) : replace(requester, request, now);
    },
  };
}

export type TransactionTokenService = ReturnType<typeof transactionTokenService>;
