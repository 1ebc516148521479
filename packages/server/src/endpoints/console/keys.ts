import { rotateSigningKey } from '../../management/signing-keys.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { confirmPage } from '../../ui/console/console-layout.ts';
import { keysPage } from '../../ui/console/keys-page.ts';
import { backTo, type ConsoleDeps, type ConsoleRequest, consoleRoute, confirmed, noticeOf } from './console-route.ts';

const NOTICES = { rotated: 'Key rotated: the new key is published and signs once its publish-ahead time has passed.' };

/** `/admin/keys`: the signing keys, and a rotation through management/signing-keys.ts. */
export function consoleKeyRoutes(deps: ConsoleDeps<unknown>): RouteDefinition[] {
  const section = 'keys' as const;
  const render = async (req: ConsoleRequest) =>
    keysPage(req.frame, { keys: deps.keys.list(), publishAheadSeconds: deps.config.keys.publishAheadSeconds, algorithm: deps.config.keys.algorithm });
  return [
    consoleRoute(deps, { method: 'GET', path: '/keys', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), render(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/keys/rotate',
      section,
      onRefusal: render,
      async handler(req) {
        if (!confirmed(req)) {
          return confirmPage(req.frame, {
            title: 'Rotate the signing key?',
            message: `A new key is generated and published now; it signs every token from ${deps.config.keys.publishAheadSeconds} seconds on. Only one rotation can be pending at a time.`,
            action: `${req.frame.base}/admin/keys/rotate`,
            fields: {},
            confirmLabel: 'Rotate key',
            cancelHref: `${req.frame.base}/admin/keys`,
          });
        }
        await rotateSigningKey(deps.keys, { audit: deps.audit, config: deps.config, actor: req.user.id });
        return backTo(req, '/keys', 'rotated');
      },
    }),
  ];
}
