import { createUser, getUser, listUsers, setUserStatus, updateUser, type UserStore } from '../../management/users.ts';
import { ManagementError } from '../../management/management-error.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { usersPage } from '../../ui/console/users-page.ts';
import { backTo, type ConsoleDeps, consoleAction, consoleManagement, type ConsoleRequest, consoleRoute, listField, noticeOf, optionalField, routeParam } from './console-route.ts';

const NOTICES = { created: 'User created.', roles: 'Roles saved.', disabled: 'User disabled: their sessions, grants and tokens ended.', enabled: 'User enabled.' };

/** `/admin/users`: the console face of management/users.ts. */
export function consoleUserRoutes(deps: ConsoleDeps<UserStore>): RouteDefinition[] {
  const section = 'users' as const;
  const render = async (req: ConsoleRequest, values?: Record<string, string>) => usersPage(req.frame, { users: await listUsers(deps), values });
  return [
    consoleRoute(deps, { method: 'GET', path: '/users', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), render(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/users',
      section,
      // The password is never put back into the form.
      onRefusal: (req) => render(req, Object.fromEntries([...req.form].filter(([k]) => k !== 'password'))),
      async handler(req) {
        const f = req.form;
        await createUser(
          {
            email: f.get('email') ?? '',
            ...(optionalField(f, 'name') ? { name: optionalField(f, 'name') } : {}),
            ...(f.get('password') ? { password: f.get('password') } : {}),
            roles: listField(f, 'roles'),
            is_admin: f.get('is_admin') === 'yes',
          },
          consoleManagement(deps, req),
        );
        return backTo(req, '/users', 'created');
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/users/:id/roles',
      section,
      onRefusal: (req) => render(req),
      async handler(req) {
        // The parameter may be an id or an email: the guard compares the user it names.
        const { id } = await getUser(routeParam(req, 'id'), consoleManagement(deps, req));
        const isAdmin = req.form.get('is_admin') === 'yes';
        // An admin cannot take their own admin role away here: the console would lock its last admin out.
        if (id === req.user.id && !isAdmin) throw new ManagementError('forbidden', 'you cannot remove your own admin role; ask another admin');
        await updateUser(id, { roles: listField(req.form, 'roles'), is_admin: isAdmin }, consoleManagement(deps, req));
        return backTo(req, '/users', 'roles');
      },
    }),
    consoleAction(deps, {
      path: '/users/:id/disable',
      section,
      onRefusal: (req) => render(req),
      async target(req) {
        const { id, email } = await getUser(routeParam(req, 'id'), consoleManagement(deps, req));
        if (id === req.user.id) throw new ManagementError('forbidden', 'you cannot disable your own account here');
        return { id, name: email ?? id };
      },
      confirm: ({ id }) => ({
        title: 'Disable this user?',
        message: `User ${id} is signed out everywhere, and every grant and token issued for them ends now. Enabling them later revives none.`,
        confirmLabel: 'Disable user',
      }),
      run: ({ id }, req) => setUserStatus(id, 'disabled', consoleManagement(deps, req)),
      back: () => '/users',
      notice: 'disabled',
    }),
    consoleAction(deps, {
      path: '/users/:id/enable',
      section,
      onRefusal: (req) => render(req),
      async target(req) {
        const { id, email } = await getUser(routeParam(req, 'id'), consoleManagement(deps, req));
        return { id, name: email ?? id };
      },
      run: ({ id }, req) => setUserStatus(id, 'active', consoleManagement(deps, req)),
      back: () => '/users',
      notice: 'enabled',
    }),
  ];
}
