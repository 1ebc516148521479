import { html } from './html.ts';
import { page } from './layout.ts';

export interface LoginPageModel {
  base: string;
  csrf: string;
  returnTo: string;
  email?: string;
  error?: string | undefined;
  /** A fixed notice (after sign-up). */
  notice?: string | undefined;
  providers: { id: string; name: string }[];
  /** Where to create an account, when self-signup is on. */
  signupUrl?: string | undefined;
}

/** Email + password, a passkey button (progressive: works only with the passkey script), and upstream providers. */
export function loginPage(model: LoginPageModel): string {
  const { base } = model;
  return page({
    title: 'Sign in',
    base,
    scripts: ['passkey.js'],
    body: html`<section class="card" aria-labelledby="title">
<h1 id="title">Sign in</h1>
${model.notice ? html`<p class="info" role="status">${model.notice}</p>` : ''}${model.error ? html`<p class="error" role="alert" id="login-error">${model.error}</p>` : ''}
<form method="post" action="${base}/login" novalidate>
  <input type="hidden" name="csrf" value="${model.csrf}">
  <input type="hidden" name="return_to" value="${model.returnTo}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username webauthn" required value="${model.email ?? ''}" ${model.error ? html`aria-describedby="login-error"` : ''} autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
<div id="passkey-login" hidden data-options="${base}/login/passkey/options" data-verify="${base}/login/passkey" data-csrf="${model.csrf}" data-return-to="${model.returnTo}">
  <p class="divider">or</p>
  <button type="button" class="secondary" id="passkey-button">Sign in with a passkey</button>
  <p class="error" role="alert" id="passkey-error" hidden></p>
</div>
${
  model.providers.length
    ? html`<p class="divider">or continue with</p>
${model.providers.map(
  (p) => html`<form method="post" action="${base}/login/upstream/${p.id}" class="inline">
  <input type="hidden" name="csrf" value="${model.csrf}"><input type="hidden" name="return_to" value="${model.returnTo}">
  <button type="submit" class="secondary">${p.name}</button></form>`,
)}`
    : ''
}
${model.signupUrl ? html`<p class="divider">New here? <a href="${model.signupUrl}">Create an account</a></p>` : ''}
</section>`,
  });
}
