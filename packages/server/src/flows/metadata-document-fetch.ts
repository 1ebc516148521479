import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressCategory } from '../policy/public-address.ts';

/**
 * Fetches a client's metadata document (CIMD-02, CIMD-06) with the defences a server-side fetch of a URL chosen by
 * anyone needs: the name is resolved here, every address it resolves to must be public (`policy/public-address.ts`),
 * and the connection goes to exactly those checked addresses (the socket's lookup is answered with them), so a
 * second DNS answer cannot rebind it to an internal one. No redirect is followed, only 200 counts, the body is cut
 * at `maxBytes`, and the whole fetch has a deadline. In development, an http URL on a loopback host may be fetched
 * from loopback addresses only (`loopbackOnly`).
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses; the system resolver by default, a test may inject its own. */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: ResolveHost = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

export interface DocumentFetchOptions {
  resolve: ResolveHost;
  timeoutMs: number;
  maxBytes: number;
  /** Development: the URL is http on a loopback host and must resolve to loopback addresses only. */
  loopbackOnly: boolean;
}

export interface FetchedDocument {
  body: string;
  contentType: string;
  cacheControl: string | undefined;
}

/** Why a fetch was refused or failed, in words for the client (`invalid_client`'s description). */
export class DocumentFetchError extends Error {
  override readonly name = 'DocumentFetchError';
}

async function checkedAddresses(url: URL, options: DocumentFetchOptions): Promise<ResolvedAddress[]> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const version = isIP(host);
  let addresses: ResolvedAddress[];
  if (version !== 0) addresses = [{ address: host, family: version === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await options.resolve(host);
    } catch {
      throw new DocumentFetchError(`its host ${host} does not resolve`);
    }
  }
  if (addresses.length === 0) throw new DocumentFetchError(`its host ${host} does not resolve`);
  for (const { address } of addresses) {
    const category = addressCategory(address);
    const allowed = options.loopbackOnly ? category === 'loopback' : category === 'public';
    if (!allowed) {
      throw new DocumentFetchError(
        options.loopbackOnly
          ? `its host ${host} resolves to ${address}, not a loopback address (the development setting fetches from loopback only)`
          : `its host ${host} resolves to ${address}, a ${category} address: only public addresses are fetched`,
      );
    }
  }
  return addresses;
}

/** A socket lookup that answers with the checked addresses only, whatever the name. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (err: null, all: ResolvedAddress[]) => void)(null, [...addresses]);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

/** The request's deadline (name resolution included) and the checked addresses, resolved within it. */
async function checkedBeforeDeadline(url: URL, options: DocumentFetchOptions): Promise<{ deadline: AbortSignal; timedOut: () => DocumentFetchError; addresses: ResolvedAddress[] }> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const timedOut = () => new DocumentFetchError(`it did not answer within ${options.timeoutMs} ms`);
  const addresses = await Promise.race([
    checkedAddresses(url, options),
    new Promise<never>((_resolve, reject) => deadline.addEventListener('abort', () => reject(timedOut()), { once: true })),
  ]);
  if (deadline.aborted) throw timedOut();
  return { deadline, timedOut, addresses };
}

/**
 * POSTs `body` to `url` with the same defences (checked and pinned addresses, no redirect, deadline) and resolves
 * to the answer's status, its body unread: a revocation webhook's delivery (any 2xx counts there).
 */
export async function postChecked(url: URL, body: string, headers: Record<string, string>, options: Omit<DocumentFetchOptions, 'maxBytes'>): Promise<number> {
  const { deadline, timedOut, addresses } = await checkedBeforeDeadline(url, { ...options, maxBytes: 0 });
  return new Promise<number>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      lookup: pinnedLookup(addresses),
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'mandate (revocation webhook)', ...headers },
      signal: deadline,
    });
    request.on('error', (err) => reject(deadline.aborted ? timedOut() : new DocumentFetchError(`it could not be reached (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
    request.on('response', (response: IncomingMessage) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.end(body);
  });
}

export async function fetchMetadataDocument(url: URL, options: DocumentFetchOptions): Promise<FetchedDocument> {
  const { deadline, timedOut, addresses } = await checkedBeforeDeadline(url, options);
  return new Promise<FetchedDocument>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      lookup: pinnedLookup(addresses),
      // A fresh connection for every fetch: a pooled socket may lead to an address checked for another name.
      agent: false,
      headers: { accept: 'application/json', 'user-agent': 'mandate (client metadata document fetch)' },
      signal: deadline,
    });
    const fail = (err: DocumentFetchError) => {
      request.destroy();
      reject(err);
    };
    request.on('error', (err) => reject(deadline.aborted ? timedOut() : new DocumentFetchError(`it could not be fetched (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) return fail(new DocumentFetchError(`it answered ${status}: redirects are not followed`));
      if (status !== 200) return fail(new DocumentFetchError(`it answered ${status}, not 200`));
      const length = Number(response.headers['content-length'] ?? 0);
      if (length > options.maxBytes) return fail(new DocumentFetchError(`it is larger than ${options.maxBytes} bytes`));
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) return fail(new DocumentFetchError(`it is larger than ${options.maxBytes} bytes`));
        chunks.push(chunk);
      });
      response.on('end', () =>
        resolve({ body: Buffer.concat(chunks).toString('utf8'), contentType: response.headers['content-type'] ?? '', cacheControl: response.headers['cache-control'] }),
      );
      response.on('error', () => reject(deadline.aborted ? timedOut() : new DocumentFetchError('its answer broke off')));
    });
    request.end();
  });
}
