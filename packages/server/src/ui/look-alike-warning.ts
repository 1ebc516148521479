import { html } from './html.ts';

/** What a self-registered client's name looks like (flows/look-alike-clients.ts decides it; the page only shows it). */
export interface LookAlikeView {
  /** The name the operator registered that it looks like, and whether that is a client or a resource. */
  imitates: { name: string; kind: 'client' | 'resource' } | null;
  /** The scripts its letters mix (Latin, Cyrillic, Greek), or null. */
  scripts: string[] | null;
}

const KIND_NAME = { client: 'an application registered on this server', resource: 'a service registered on this server' } as const;

/** The specific warning for a self-registered client whose name imitates a registered one, or mixes alphabets. */
export function lookAlikeWarning(name: string, found: LookAlikeView) {
  return html`<p class="warning look-alike" role="alert" id="look-alike"><strong>Warning: this may be an imitation.</strong>${
    found.imitates
      ? html` The name <strong>${name}</strong> looks like <strong>${found.imitates.name}</strong>, ${KIND_NAME[found.imitates.kind]}, but it is another application, which gave itself this name.`
      : ''
  }${
    found.scripts ? html` Its name mixes letters of different alphabets (${found.scripts.join(', ')}), a common trick to copy another name.` : ''
  } Deny unless you are sure who runs it.</p>`;
}
