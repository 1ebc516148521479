/**
 * Which DPoP key a token-exchange result is bound to (RFC 9449 §5 with RFC 8693), over the facts the grant looked
 * up. The issued token is bound to the key of the request's proof, so the actor proves its own key; and:
 * - a child of a bound subject token stays bound: without a proof the exchange is refused (a bound token must not
 *   become a bearer token by being exchanged, authgent's gap in systems-review §c);
 * - a bound actor token is the actor's own: the proof must be of its key;
 * - without an actor token, a client exchanging its own bound token must prove that token's key, so that a stolen
 *   bound token cannot be re-bound to the thief's key.
 */
export interface ExchangeBindingFacts {
  /** `cnf.jkt` of the subject token, if bound. */
  subjectJkt: string | undefined;
  /** The client the subject token was issued to. */
  subjectClientId: string;
  /** `cnf.jkt` of the actor token, if bound; undefined also when there is no actor token. */
  actorJkt: string | undefined;
  hasActorToken: boolean;
  /** The exchanging client. */
  clientId: string;
  /** The thumbprint of the request's verified proof key. */
  proofJkt: string | undefined;
}

export type ExchangeBinding = { ok: true; jkt: string | undefined } | { ok: false; description: string };

export function decideExchangeBinding(facts: ExchangeBindingFacts): ExchangeBinding {
  const { proofJkt } = facts;
  if (facts.actorJkt !== undefined && proofJkt !== facts.actorJkt) {
    return { ok: false, description: 'the actor_token is DPoP-bound: the request needs a DPoP proof of its key' };
  }
  if (facts.subjectJkt !== undefined) {
    if (proofJkt === undefined) return { ok: false, description: 'the subject_token is DPoP-bound: the exchange needs a DPoP proof, and its result stays bound' };
    if (!facts.hasActorToken && facts.subjectClientId === facts.clientId && proofJkt !== facts.subjectJkt) {
      return { ok: false, description: 'the subject_token is bound to another DPoP key' };
    }
  }
  return { ok: true, jkt: proofJkt };
}
