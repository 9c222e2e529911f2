/**
 * Ed25519 keys for audit checkpoints. The private key signs a checkpoint before rows are
 * pruned; the public key lets an auditor verify the chain without it. Both come from the
 * environment as PEM, or as base64 of the DER (PKCS#8 for the private key, SPKI for the public
 * one). A key's id is the first 16 hex digits of the SHA-256 of its public key (SPKI DER), so a
 * checkpoint names the key that signed it without naming anything secret.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

export const CHECKPOINT_ALGORITHM = 'ed25519';

function decode(text: string, kind: 'private' | 'public'): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  if (trimmed.startsWith('-----BEGIN')) {
    key = kind === 'private' ? createPrivateKey(trimmed) : createPublicKey(trimmed);
  } else {
    const der = Buffer.from(trimmed, 'base64');
    key =
      kind === 'private'
        ? createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
        : createPublicKey({ key: der, format: 'der', type: 'spki' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  return key;
}

/** The signing key, or an error that says what is expected (never the key's text). */
export function parsePrivateKey(text: string): KeyObject {
  try {
    return decode(text, 'private');
  } catch {
    throw new Error('must be an Ed25519 private key, as PEM or base64 of PKCS#8 DER');
  }
}

/** A verification key; a private key is accepted too (its public half is used). */
export function parsePublicKey(text: string): KeyObject {
  try {
    return decode(text, 'public');
  } catch {
    throw new Error('must be an Ed25519 public key, as PEM or base64 of SPKI DER');
  }
}

export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** A new key pair as base64 DER, for `idflow audit keygen`. */
export function generateCheckpointKeys(): { privateKey: string; publicKey: string; id: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    id: keyId(publicKey),
  };
}
