import type { UserRow } from './view-models.ts';
import { html } from '../html.ts';
import { badge, csrfField, emptyState, field, idText, pageHeading, postButton, statusBadge, type ConsoleFrame, when } from './components.ts';
import { consolePage } from './console-layout.ts';

export interface UsersPageModel {
  users: UserRow[];
  values?: Record<string, string> | undefined;
}

const roleBadges = (u: UserRow) => html`${u.is_admin ? badge('admin', 'danger') : ''}${u.roles.map((r) => badge(r, r === 'approver' ? 'warn' : 'info'))}${!u.is_admin && u.roles.length === 0 ? html`<span class="muted">none</span>` : ''}`;

/** Users and their console roles (`is_admin`, `approver`, `viewer`) and policy roles (`role_required`). */
export function usersPage(frame: ConsoleFrame, model: UsersPageModel): string {
  const { base, csrf } = frame;
  const edit = frame.canChange;
  const v = model.values ?? {};
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'Users and roles', 'People who sign in. Admin opens the whole console; the approver role decides approval requests; the viewer role reads the console. Other roles are for scope policies (role_required).')}</section>
<section class="card" aria-labelledby="list-heading"><h2 id="list-heading">All users <span class="count">${model.users.length}</span></h2>
${
  model.users.length === 0
    ? emptyState('No users yet.', 'Create one below.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">User</th><th scope="col">Status</th><th scope="col">Roles</th><th scope="col">Sign-in</th><th scope="col">Created</th>${edit ? html`<th scope="col">Actions</th>` : ''}</tr></thead><tbody>
${model.users.map(
  (u) => html`<tr><td><strong>${u.name ?? u.email ?? u.id}</strong><br>${u.email ?? ''}${u.email_verified ? '' : html` ${badge('unverified', 'warn')}`}<br>${idText(u.id)}</td>
<td>${statusBadge(u.status)}</td><td>${roleBadges(u)}</td><td>${u.has_password ? 'password' : html`<span class="muted">no password</span>`}</td><td>${when(u.created_at)}</td>
${
  edit
    ? html`<td class="actions"><details><summary aria-label="Edit the roles of ${u.email ?? u.id}">Roles</summary>
<form method="post" action="${base}/admin/users/${u.id}/roles" class="grid-form compact">${csrfField(csrf)}
<div class="field"><input type="checkbox" id="admin-${u.id}" name="is_admin" value="yes"${u.is_admin ? html` checked` : ''}> <label for="admin-${u.id}" class="inline-label">Admin</label></div>
${field({ form: `roles-${u.id}`, name: 'roles', label: 'Roles', value: u.roles.join(' '), hint: 'Separated by spaces: approver, viewer, or policy roles.' })}
<div class="form-actions"><button type="submit" class="small">Save roles</button></div></form></details>
${
  u.status === 'active'
    ? u.id === frame.user.id
      ? ''
      : postButton({ action: `${base}/admin/users/${u.id}/disable`, csrf, label: 'Disable', ariaLabel: `Disable user ${u.email ?? u.id}`, tone: 'danger' })
    : postButton({ action: `${base}/admin/users/${u.id}/enable`, csrf, label: 'Enable', ariaLabel: `Enable user ${u.email ?? u.id}`, tone: 'secondary' })
}</td>`
    : ''
}</tr>`,
)}</tbody></table></div>`
}
</section>
${
  edit
    ? html`<section class="card" aria-labelledby="create-heading"><h2 id="create-heading">Create a user</h2>
<form method="post" action="${base}/admin/users" class="grid-form">${csrfField(csrf)}
${field({ form: 'user', name: 'email', label: 'Email', type: 'email', value: v['email'], required: true })}
${field({ form: 'user', name: 'name', label: 'Name', value: v['name'] })}
${field({ form: 'user', name: 'password', label: 'Initial password', type: 'password', hint: 'At least 8 characters; leave empty for a passkey- or upstream-only account.' })}
${field({ form: 'user', name: 'roles', label: 'Roles', value: v['roles'], hint: 'Separated by spaces: approver, viewer, or policy roles.' })}
<div class="field"><input type="checkbox" id="user-is_admin" name="is_admin" value="yes"${v['is_admin'] ? html` checked` : ''}> <label for="user-is_admin" class="inline-label">Admin (the whole console)</label></div>
<div class="form-actions"><button type="submit">Create user</button></div>
</form></section>`
    : ''
}`;
  return consolePage(frame, 'Users', body);
}
