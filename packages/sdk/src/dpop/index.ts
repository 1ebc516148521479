export { createDpopFetch, DpopProver } from './prover.ts';
export type { DpopFetchHooks, DpopProverOptions, StoredDpopKey } from './prover.ts';
export { dpopPresentationCheck } from './verify-presentation.ts';
export type { DpopPresentationCheck, DpopVerifyOptions, PresentedRequest } from './verify-presentation.ts';
export { MemoryDpopReplayCache } from './replay-cache.ts';
export type { DpopReplayCache } from './replay-cache.ts';
export { createDpopNonces } from '@mandate/protocol';
export type { DpopNonces } from '@mandate/protocol';
