/**
 * CloudFront's check of a signed URL, for the local CDN: what a behaviour with trusted key
 * groups does to every request (CloudFront developer guide, "Serve private content with
 * signed URLs and signed cookies"). Pure: the request URL, the trusted keys and the time in,
 * a verdict out.
 *
 * Covered: custom policies (`Policy`) and canned ones (`Expires`), RSA signatures with SHA-1
 * (the default) or SHA-256 (`Hash-Algorithm=SHA256`), the `*` and `?` wildcards of a
 * policy's Resource, DateLessThan and DateGreaterThan. A policy with any other condition
 * (IpAddress) is refused rather than half-checked. Signed cookies are not read: Spool hands
 * out signed URLs (core/playback.ts).
 */
import { type KeyObject, verify } from 'node:crypto';

/** CloudFront public key id (`Key-Pair-Id`) → the public key. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

export type Verdict = { allowed: true } | { allowed: false; reason: string };

/** The query parameters CloudFront reads, and leaves out of the URL a policy is matched to. */
const SIGNING_PARAMS = new Set(['Policy', 'Signature', 'Key-Pair-Id', 'Expires', 'Hash-Algorithm']);
const HASHES: Record<string, string> = { SHA1: 'sha1', SHA256: 'sha256' };

/** CloudFront's URL-safe base64: `-`, `_`, `~` stand for `+`, `=`, `/`. */
const fromCloudFrontBase64 = (text: string): Buffer =>
  Buffer.from(text.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');

const deny = (reason: string): Verdict => ({ allowed: false, reason });

const decode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
};

/**
 * `url` is the absolute URL as the viewer asked for it (scheme, the Host it sent, the path
 * and query as sent, undecoded); `now` the time of the request.
 */
export function checkSignedUrl(url: string, trusted: TrustedKeys, now: Date): Verdict {
  const at = url.indexOf('?');
  const base = at < 0 ? url : url.slice(0, at);
  const pairs = at < 0 ? [] : url.slice(at + 1).split('&');
  const params = new Map<string, string>();
  const kept: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (name === undefined) return deny('Malformed query string');
    if (SIGNING_PARAMS.has(name)) {
      const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
      if (value === undefined) return deny('Malformed query string');
      params.set(name, value);
    } else if (pair !== '') kept.push(pair);
  }
  // The URL the signer signed: the request's, without the signature's own parameters.
  const signedUrl = kept.length > 0 ? `${base}?${kept.join('&')}` : base;

  const keyPairId = params.get('Key-Pair-Id');
  const signature = params.get('Signature');
  if (!keyPairId || !signature) return deny('Missing Key-Pair-Id query parameter or cookie value');
  const key = trusted.get(keyPairId);
  if (!key) return deny(`Key-Pair-Id ${keyPairId} is not in a trusted key group`);
  const hash = HASHES[params.get('Hash-Algorithm') ?? 'SHA1'];
  if (!hash) return deny(`unsupported Hash-Algorithm ${params.get('Hash-Algorithm')}`);

  const policyParam = params.get('Policy');
  const expires = params.get('Expires');
  let policyText: string;
  if (policyParam !== undefined) {
    policyText = fromCloudFrontBase64(policyParam).toString('utf8');
  } else if (expires !== undefined && /^\d+$/.test(expires)) {
    // A canned policy is not sent: it is rebuilt from the URL and Expires, byte for byte as
    // the signer wrote it, so a signature for one URL opens no other.
    policyText = JSON.stringify({
      Statement: [
        {
          Resource: signedUrl,
          Condition: { DateLessThan: { 'AWS:EpochTime': Number(expires) } },
        },
      ],
    });
  } else {
    return deny('Missing Policy or Expires query parameter');
  }

  if (!verify(hash, Buffer.from(policyText, 'utf8'), key, fromCloudFrontBase64(signature))) {
    return deny('Invalid signature');
  }
  return checkPolicy(policyText, signedUrl, now);
}

/** The conditions of a policy whose signature holds, for a request of `url` at `now`. */
function checkPolicy(policyText: string, url: string, now: Date): Verdict {
  let statement: unknown;
  try {
    const policy = JSON.parse(policyText) as { Statement?: unknown };
    if (!Array.isArray(policy.Statement) || policy.Statement.length !== 1) {
      return deny('Malformed policy: one Statement expected');
    }
    statement = policy.Statement[0];
  } catch {
    return deny('Malformed policy: not JSON');
  }
  const { Resource, Condition, ...rest } = statement as {
    Resource?: unknown;
    Condition?: Record<string, unknown>;
  };
  if (Object.keys(rest).length > 0) return deny(`Malformed policy: ${Object.keys(rest)[0]}`);
  const { DateLessThan, DateGreaterThan, ...others } = Condition ?? {};
  if (Object.keys(others).length > 0) {
    return deny(`policy condition ${Object.keys(others)[0]} is not checked locally`);
  }
  const epoch = (condition: unknown): number | undefined => {
    const value = (condition as Record<string, unknown> | undefined)?.['AWS:EpochTime'];
    return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
  };
  const notAfter = epoch(DateLessThan);
  if (notAfter === undefined) return deny('Malformed policy: DateLessThan is required');
  const seconds = now.getTime() / 1000;
  if (seconds >= notAfter) return deny('Access denied: the signature has expired');
  if (DateGreaterThan !== undefined) {
    const notBefore = epoch(DateGreaterThan);
    if (notBefore === undefined) return deny('Malformed policy: DateGreaterThan');
    if (seconds <= notBefore) return deny('Access denied: the signature is not valid yet');
  }
  // No Resource: every URL of the distributions that trust the key.
  if (Resource !== undefined) {
    if (typeof Resource !== 'string') return deny('Malformed policy: Resource');
    if (!matchesResource(Resource, url)) return deny('Access denied: outside the signed Resource');
  }
  return { allowed: true };
}

/** A policy Resource with CloudFront's wildcards: `*` any run of characters, `?` one. */
export function matchesResource(resource: string, url: string): boolean {
  const pattern = resource
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`, 's').test(url);
}
