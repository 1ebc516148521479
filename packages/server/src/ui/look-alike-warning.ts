import type { LookAlike } from '../policy/look-alike-names.ts';
import { html } from './html.ts';

const KIND_NAME = { client: 'an application registered on this server', resource: 'a service registered on this server' } as const;

/** The specific warning for a self-registered client whose name imitates a registered one, or mixes alphabets. */
export function lookAlikeWarning(name: string, found: LookAlike) {
  return html`<p class="warning look-alike" role="alert" id="look-alike"><strong>Warning: this may be an imitation.</strong>${
    found.imitates
      ? html` The name <strong>${name}</strong> looks like <strong>${found.imitates.name}</strong>, ${KIND_NAME[found.imitates.kind]}, but it is another application, which gave itself this name.`
      : ''
  }${
    found.scripts ? html` Its name mixes letters of different alphabets (${found.scripts.join(', ')}), a common trick to copy another name.` : ''
  } Deny unless you are sure who runs it.</p>`;
}
