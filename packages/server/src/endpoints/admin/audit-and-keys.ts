import { KeyRing } from '../../keys/key-ring.ts';
import { z } from 'zod';
import { queryAudit } from '../../management/audit.ts';
import type { AuditRecords } from '../../store/store.ts';
import { parseInput } from '../../management/input.ts';
import { rotateSigningKey } from '../../management/signing-keys.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { type AdminApiDeps, adminRoute, sendJson } from './admin-route.ts';

/** `/admin/v1/audit` (query and chain check) and `/admin/v1/keys` (list and rotate). */
export function adminAuditAndKeyRoutes(api: AdminApiDeps<Pick<AuditRecords, 'listAuditRows'>>): RouteDefinition[] {
  return [
    adminRoute('GET', '/audit', async (request, reply) => sendJson(reply, 200, { events: await queryAudit(api.store, request.query ?? {}) })),
    adminRoute('GET', '/audit/verify', async (request, reply) => {
      const { allow_unkeyed } = parseInput(verifyQuery, request.query ?? {});
      return sendJson(reply, 200, await api.audit.verify({ allowUnkeyedThrough: allow_unkeyed }));
    }),
    adminRoute('GET', '/keys', async (_request, reply) => sendJson(reply, 200, { keys: api.keys.list() })),
    adminRoute('POST', '/keys/rotate', async (request, reply) => {
      // Optional body `{ "publish_ahead_seconds": n }`; absent → keys.publishAheadSeconds.
      const { publish_ahead_seconds: publishAheadSeconds } = parseInput(rotateBody, request.body ?? {});
      const rotated = await rotateSigningKey(api.keys, { audit: api.audit, config: api.config, actor: request.adminActor ?? 'admin' }, { publishAheadSeconds });
      return sendJson(reply, 200, KeyRing.rotationView(rotated));
    }),
  ];
}

const rotateBody = z.object({ publish_ahead_seconds: z.unknown().optional() }).strict();
const verifyQuery = z.object({ allow_unkeyed: z.coerce.number().int().nonnegative().optional() }).strict();
