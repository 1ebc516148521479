import { html } from './html.ts';
import { page } from './layout.ts';

export interface SignupPageModel {
  base: string;
  csrf: string;
  email?: string;
  name?: string;
  error?: string;
}

/** Self-signup (off unless `users.selfSignup`): email, name, password; then the person signs in. */
export function signupPage(model: SignupPageModel): string {
  const { base } = model;
  return page({
    title: 'Create an account',
    base,
    body: html`<section class="card" aria-labelledby="title">
<h1 id="title">Create an account</h1>
${model.error ? html`<p class="error" role="alert" id="signup-error">${model.error}</p>` : ''}
<form method="post" action="${base}/signup" novalidate>
  <input type="hidden" name="csrf" value="${model.csrf}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${model.email ?? ''}"${model.error ? html` aria-describedby="signup-error"` : ''}>
  <label for="name">Name <span class="muted">(optional)</span></label>
  <input id="name" name="name" type="text" autocomplete="name" value="${model.name ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="password-hint">
  <span class="hint" id="password-hint">At least 8 characters.</span>
  <button type="submit">Create account</button>
</form>
<p>Have an account? <a href="${base}/login">Sign in</a></p>
</section>`,
  });
}
