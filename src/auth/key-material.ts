/**
 * What a signing key is, independent of where it is kept: the two algorithms this service signs
 * with, how a JWK maps to one, and how JWT_PRIVATE_KEY is read. No database here, so the
 * configuration can check JWT_PRIVATE_KEY and JWT_ALGORITHM before anything starts.
 */
import { createPrivateKey } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * EdDSA (Ed25519) is the default; ES256 (P-256) is offered for verifiers that lack Ed25519
 * (older Java and .NET stacks). Nothing else is ever accepted on our own tokens.
 */
export type SigningAlg = 'EdDSA' | 'ES256';
export const SIGNING_ALGORITHMS: SigningAlg[] = ['EdDSA', 'ES256'];

/** Algorithm of generated keys when JWT_ALGORITHM is unset. */
export const DEFAULT_SIGNING_ALGORITHM: SigningAlg = 'EdDSA';

export class KeyError extends Error {}

export function algOf(jwk: JWK): SigningAlg {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new KeyError(`Unsupported key type ${jwk.kty}/${jwk.crv ?? '-'}: use Ed25519 (EdDSA) or P-256 (ES256).`);
}

/** PKCS8 PEM (literal "\n" escapes allowed, as env files often carry them) or a private JWK. */
export function parsePrivateKey(text: string): JWK {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as JWK;
      if (!jwk.d) throw new KeyError('the JWK has no private part ("d")');
      return jwk;
    }
    const pem = trimmed.replace(/\\n/g, '\n');
    return createPrivateKey({ key: pem, format: 'pem' }).export({ format: 'jwk' }) as JWK;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new KeyError(`JWT_PRIVATE_KEY is not a usable private key (PKCS8 PEM or JWK): ${reason}`);
  }
}

/**
 * The algorithm a configured key signs with; throws KeyError when the key is unusable or is not
 * of the algorithm JWT_ALGORITHM names (a P-256 key cannot sign EdDSA, nor the reverse).
 */
export function configuredKeyAlgorithm(privateKey: string, wanted: SigningAlg | undefined): SigningAlg {
  const alg = algOf(parsePrivateKey(privateKey));
  if (wanted && wanted !== alg) {
    throw new KeyError(
      `JWT_ALGORITHM is ${wanted} but JWT_PRIVATE_KEY is a ${alg} key; set JWT_ALGORITHM=${alg} or configure a ${wanted} key.`,
    );
  }
  return alg;
}
