/**
 * What a webhook's URL may be (revocation webhooks, issue 11 item 3; approval webhooks and CIBA ping endpoints, issue
 * 12); the delivery itself connects to public addresses only.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why a webhook URL is not accepted, or null: https, or in development http on a loopback host. */
export function webhookUrlProblem(value: string, allowHttpLocalhost: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password || url.hash) return 'must carry no credentials and no fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && allowHttpLocalhost && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return allowHttpLocalhost ? 'must be an https URL (or http on a loopback host)' : 'must be an https URL';
}

/** The associated data a webhook secret is encrypted with: it cannot be moved to another resource's row. */
export const webhookSecretAad = (resourceId: string): string => `revocation-webhook:${resourceId}`;

/** The associated data an approval webhook's secret is encrypted with: it cannot be moved to another webhook's row. */
export const approvalWebhookSecretAad = (webhookId: string): string => `approval-webhook:${webhookId}`;
