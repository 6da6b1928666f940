/**
 * HTTP Basic (RFC 7617) as BI tools send it: Power BI, Excel and most schedulers can store a user
 * name and password but not a bearer token. The password must be a personal access token (the user
 * name is ignored); account passwords are never accepted here, so Basic adds no password-guessing
 * surface and no argon2 cost per request.
 */
export const BASIC_CHALLENGE = 'Basic realm="nysana", charset="UTF-8"';

const BASIC_SCHEME = /^basic(?:\s|$)/i;
const BASIC = /^basic +([A-Za-z0-9+/]+={0,2})$/i;

/** The password of a Basic header; undefined when the header is of another scheme, null when malformed. */
export function basicPassword(header: string): string | null | undefined {
  const trimmed = header.trim();
  if (!BASIC_SCHEME.test(trimmed)) return undefined;
  const match = BASIC.exec(trimmed);
  // Padded base64 only: a truncated value would otherwise decode to something shorter, silently.
  if (!match || match[1]!.length % 4 !== 0) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  // After the last colon: tokens hold none, and some tools let a colon into the user name.
  const colon = decoded.lastIndexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}
