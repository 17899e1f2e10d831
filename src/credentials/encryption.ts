import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface Sealed {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  keyId: string;
}

/**
 * AES-256-GCM with named keys. New data is sealed with the current (first) key; any listed
 * key still opens old data, so keys rotate by prepending a new one and re-sealing at leisure.
 */
export class Keyring {
  private readonly keys: Map<string, Buffer>;
  readonly currentKeyId: string;

  constructor(entries: { id: string; key: Buffer }[]) {
    if (entries.length === 0) throw new Error('a keyring needs at least one key');
    for (const e of entries) if (e.key.length !== 32) throw new Error(`encryption key '${e.id}' must be 32 bytes`);
    this.keys = new Map(entries.map((e) => [e.id, e.key]));
    this.currentKeyId = entries[0]!.id;
  }

  /** Parses "kid:base64,kid2:base64" (SEKISHO_ENCRYPTION_KEYS). */
  static parse(spec: string): Keyring {
    return new Keyring(
      spec.split(',').map((part) => {
        const [id, b64] = part.trim().split(':', 2);
        if (!id || !b64) throw new Error('SEKISHO_ENCRYPTION_KEYS must look like kid:base64key[,kid2:base64key]');
        return { id, key: Buffer.from(b64, 'base64') };
      }),
    );
  }

  static generateSpec(): string {
    return `k1:${randomBytes(32).toString('base64')}`;
  }

  seal(plaintext: string | Buffer, associatedData: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    // Associated data binds the ciphertext to its row: a blob copied to another row won't open.
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag(), keyId: this.currentKeyId };
  }

  open(sealed: Sealed, associatedData: string): Buffer {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new Error(`encryption key '${sealed.keyId}' is not configured`);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  }
}
