import { createPrivateKey, createPublicKey } from 'node:crypto';
import { stableHex } from '../ids.js';

/** PKCS#8 DER of an Ed25519 private key without its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * A real Ed25519 SSH public key in OpenSSH's `authorized_keys` format (`ssh-ed25519 <base64> <comment>`),
 * as a Linux VM's `publicKeys[].keyData` holds it (Azure takes ssh-rsa and ssh-ed25519 keys), derived
 * from `seed` so that a VM's key is the same on every run: `ssh-keygen -l` accepts it. Nobody holds the
 * private key outside this function; it is never written anywhere.
 */
export function sshPublicKey(seed: string, comment: string): string {
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(stableHex(`${seed}/ssh-ed25519`, 64), 'hex')]),
    format: 'der',
    type: 'pkcs8',
  });
  const raw = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x as string, 'base64url');
  // RFC 8709: string "ssh-ed25519", string key (each a uint32 length and the bytes).
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
