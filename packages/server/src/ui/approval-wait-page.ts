import { html } from './html.ts';
import { page } from './layout.ts';

export interface ApprovalWaitPageModel {
  base: string;
  csrf: string;
  userEmail: string;
  clientName: string;
  /** Why an approver must decide (the scope policy, as the policy decision described it). */
  why: string;
  approvalId: string;
  expiresAt: number;
  /** Where "Check again" goes: the kept request and its approval request. */
  checkUrl: string;
}

/**
 * The page a consented request waits on while an approver decides (issue 12 item 2). It does not poll by itself
 * (no script); "Check again" continues to the application once approved, or back to it with the refusal.
 */
export function approvalWaitPage(model: ApprovalWaitPageModel): string {
  const until = new Date(model.expiresAt * 1000).toISOString().replace('T', ' ').slice(0, 16);
  return page({
    title: 'Waiting for approval',
    base: model.base,
    signedInAs: model.userEmail,
    csrf: model.csrf,
    body: html`<section class="card" aria-labelledby="title">
<h1 id="title">Waiting for approval</h1>
<p class="info" role="status">You approved <strong>${model.clientName}</strong>. An approver must approve this request too: ${model.why}.</p>
<p>Approval request <code>${model.approvalId}</code> is open until ${until} UTC. Approvers decide in the Mandate console; once they have, check again to continue to the application.</p>
<p><a class="button" href="${model.checkUrl}">Check again</a></p>
</section>`,
  });
}
