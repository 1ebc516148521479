import { html, type SafeHtml } from './html.ts';

export interface PageOptions {
  title: string;
  /** The issuer's path prefix, so links and assets work when Mandate is served under a path. */
  base: string;
  body: SafeHtml;
  /** Extra scripts (served from /static, allowed by CSP `script-src 'self'`). */
  scripts?: string[];
  signedInAs?: string | null;
  csrf?: string;
  /** A section navigation beside the main content (the console's), and a wider main column for tables. */
  aside?: SafeHtml;
  /** Text after the brand (the console names itself there). */
  brandSuffix?: string;
}

/**
 * The page shell: landmarks (header, main, footer), a skip link, one stylesheet, and no inline script or style,
 * so the CSP can stay `default-src 'self'`.
 */
export function page(options: PageOptions): string {
  const { base } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · Mandate</title>
<link rel="stylesheet" href="${base}/static/mandate.css">
${(options.scripts ?? []).map((s) => html`<script type="module" src="${base}/static/${s}"></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
  <span class="brand">Mandate${options.brandSuffix ? html` <span class="brand-suffix">${options.brandSuffix}</span>` : ''}</span>
  ${
    options.signedInAs
      ? html`<nav aria-label="Account"><a href="${base}/account">${options.signedInAs}</a>
      <form method="post" action="${base}/logout" class="inline"><input type="hidden" name="csrf" value="${options.csrf ?? ''}"><button type="submit" class="link">Log out</button></form></nav>`
      : ''
  }
</header>
${
  options.aside
    ? html`<div class="console">${options.aside}<main id="main" class="wide">
${options.body}
</main></div>`
    : html`<main id="main">
${options.body}
</main>`
}
<footer class="site"><p>Mandate authorization server</p></footer>
</body>
</html>`.value;
}

/** A page that only says something (an error that must not be redirected, a notice). */
export function messagePage(base: string, title: string, message: string, status: 'error' | 'info' = 'error'): string {
  return page({
    title,
    base,
    body: html`<section class="card" aria-labelledby="title"><h1 id="title">${title}</h1><p class="${status}" role="${status === 'error' ? 'alert' : 'status'}">${message}</p></section>`,
  });
}
