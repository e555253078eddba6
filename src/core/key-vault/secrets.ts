import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { VaultRecord } from './vault.js';

/**
 * Attributes of a secret version as Key Vault serves them (SecretAttributes in the data-plane spec):
 * times in unix seconds; `recoveryLevel` and `recoverableDays` follow the vault's soft-delete settings.
 */
export interface SecretAttributes {
  readonly enabled: boolean;
  readonly nbf?: number;
  readonly exp?: number;
  readonly created: number;
  readonly updated: number;
  readonly recoveryLevel: string;
  readonly recoverableDays?: number;
}

/** One version of a secret, with its value (SecretBundle). */
export interface SecretVersionView {
  /** The name as first set (names are case-insensitive). */
  readonly name: string;
  /** 32 lower-case hex digits. */
  readonly version: string;
  readonly value: string;
  readonly contentType?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly attributes: SecretAttributes;
}

/** A soft-deleted secret (DeletedSecretBundle): its latest version and the deletion dates (unix seconds). */
export interface DeletedSecretView extends SecretVersionView {
  readonly deletedDate: number;
  readonly scheduledPurgeDate: number;
}

/** Input of `set`: a new version. */
export interface SecretInput {
  readonly value: string;
  readonly contentType?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly enabled?: boolean;
  readonly nbf?: number;
  readonly exp?: number;
}

/** Input of `update`: what a PATCH changes (absent: unchanged). */
export interface SecretPatch {
  readonly contentType?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly enabled?: boolean;
  readonly nbf?: number;
  readonly exp?: number;
}

/** Why an operation failed; the protocol maps each to Azure's error (errors.ts `keyVaultErrors`). */
export type SecretFailure =
  | { readonly kind: 'not-found'; readonly name: string; readonly version?: string }
  | { readonly kind: 'deleted-not-found'; readonly name: string }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'not-yet-valid' }
  | { readonly kind: 'deleted-conflict'; readonly name: string }
  | { readonly kind: 'purge-protected'; readonly name: string };

export type SecretResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: SecretFailure };

interface StoredVersion {
  readonly version: string;
  readonly value: string;
  contentType: string | undefined;
  tags: Record<string, string> | undefined;
  enabled: boolean;
  nbf: number | undefined;
  exp: number | undefined;
  readonly created: number;
  updated: number;
}

interface StoredSecret {
  readonly name: string;
  /** Oldest first; the last is the current version. */
  readonly versions: StoredVersion[];
  deleted?: { deletedDate: number; scheduledPurgeDate: number };
}

/** Key Vault's recovery level for a vault's settings (DeletionRecoveryLevel in the data-plane spec). */
export function recoveryLevel(vault: VaultRecord): { level: string; days?: number } {
  if (!vault.enableSoftDelete) return { level: 'Purgeable' };
  const days = vault.softDeleteRetentionInDays;
  const prefix = days < 90 ? 'CustomizedRecoverable' : 'Recoverable';
  return { level: vault.enablePurgeProtection ? prefix : `${prefix}+Purgeable`, days };
}

const ok = <T>(value: T): SecretResult<T> => ({ ok: true, value });
const fail = (failure: SecretFailure): { ok: false; failure: SecretFailure } => ({ ok: false, failure });

/**
 * The secrets of one vault: versions, soft delete, recover, purge. Each `set` adds a version with a
 * random 32-hex id; times come from the emulator clock (unix seconds). Deleted secrets whose scheduled
 * purge date has passed are purged on the next access. The vault's settings are read on every call
 * (`vault()`), so a change of the vault resource applies at once.
 */
export class VaultSecrets {
  readonly #secrets = new Map<string, StoredSecret>();
  readonly #clock: Clock;
  readonly #vault: () => VaultRecord;

  constructor(vault: () => VaultRecord, clock: Clock) {
    this.#vault = vault;
    this.#clock = clock;
  }

  #now(): number {
    return Math.floor(this.#clock.now() / 1000);
  }

  #entry(name: string): StoredSecret | undefined {
    const key = name.toLowerCase();
    const secret = this.#secrets.get(key);
    if (secret?.deleted && secret.deleted.scheduledPurgeDate <= this.#now()) {
      this.#secrets.delete(key);
      return undefined;
    }
    return secret;
  }

  #live(name: string): StoredSecret | undefined {
    const secret = this.#entry(name);
    return secret && !secret.deleted ? secret : undefined;
  }

  #view(secret: StoredSecret, v: StoredVersion): SecretVersionView {
    const { level, days } = recoveryLevel(this.#vault());
    return {
      name: secret.name,
      version: v.version,
      value: v.value,
      ...(v.contentType === undefined ? {} : { contentType: v.contentType }),
      ...(v.tags === undefined ? {} : { tags: { ...v.tags } }),
      attributes: {
        enabled: v.enabled,
        ...(v.nbf === undefined ? {} : { nbf: v.nbf }),
        ...(v.exp === undefined ? {} : { exp: v.exp }),
        created: v.created,
        updated: v.updated,
        recoveryLevel: level,
        ...(days === undefined ? {} : { recoverableDays: days }),
      },
    };
  }

  #deletedView(secret: StoredSecret): DeletedSecretView {
    const latest = secret.versions[secret.versions.length - 1] as StoredVersion;
    const deleted = secret.deleted as { deletedDate: number; scheduledPurgeDate: number };
    return { ...this.#view(secret, latest), ...deleted };
  }

  /**
   * Adds a version (creating the secret). Fails with `deleted-conflict` while a secret of that name is
   * soft-deleted (Azure: 409 Conflict, ObjectIsDeletedButRecoverable).
   */
  set(name: string, input: SecretInput): SecretResult<SecretVersionView> {
    let secret = this.#entry(name);
    if (secret?.deleted) return fail({ kind: 'deleted-conflict', name: secret.name });
    if (!secret) {
      secret = { name, versions: [] };
      this.#secrets.set(name.toLowerCase(), secret);
    }
    const now = this.#now();
    const version: StoredVersion = {
      version: randomBytes(16).toString('hex'),
      value: input.value,
      contentType: input.contentType,
      tags: input.tags ? { ...input.tags } : undefined,
      enabled: input.enabled ?? true,
      nbf: input.nbf,
      exp: input.exp,
      created: now,
      updated: now,
    };
    secret.versions.push(version);
    return ok(this.#view(secret, version));
  }

  #find(name: string, version: string | undefined): SecretResult<{ secret: StoredSecret; v: StoredVersion }> {
    const secret = this.#live(name);
    if (!secret) return fail({ kind: 'not-found', name });
    const v = version
      ? secret.versions.find((x) => x.version === version.toLowerCase())
      : secret.versions[secret.versions.length - 1];
    if (!v) return fail({ kind: 'not-found', name, ...(version ? { version } : {}) });
    return ok({ secret, v });
  }

  /**
   * The value of a version (latest when `version` is empty). A disabled version fails with `disabled`;
   * with `enforceValidity`, one outside its nbf/exp window fails with `not-yet-valid`/`expired`.
   */
  get(name: string, version?: string, enforceValidity = false): SecretResult<SecretVersionView> {
    const found = this.#find(name, version);
    if (!found.ok) return found;
    const { secret, v } = found.value;
    if (!v.enabled) return fail({ kind: 'disabled' });
    if (enforceValidity) {
      const now = this.#now();
      if (v.nbf !== undefined && now < v.nbf) return fail({ kind: 'not-yet-valid' });
      if (v.exp !== undefined && now >= v.exp) return fail({ kind: 'expired' });
    }
    return ok(this.#view(secret, v));
  }

  /** Every live secret's current version, by name. */
  list(): SecretVersionView[] {
    const out: SecretVersionView[] = [];
    for (const key of [...this.#secrets.keys()].sort()) {
      const secret = this.#live(key);
      if (secret) out.push(this.#view(secret, secret.versions[secret.versions.length - 1] as StoredVersion));
    }
    return out;
  }

  /** Every version of a live secret, oldest first (none when there is no such secret). */
  versions(name: string): SecretVersionView[] {
    const secret = this.#live(name);
    return secret ? secret.versions.map((v) => this.#view(secret, v)) : [];
  }

  /** Changes attributes, tags or content type of a version (latest when `version` is empty). */
  update(name: string, version: string | undefined, patch: SecretPatch): SecretResult<SecretVersionView> {
    const found = this.#find(name, version);
    if (!found.ok) return found;
    const { secret, v } = found.value;
    if (patch.contentType !== undefined) v.contentType = patch.contentType;
    if (patch.tags !== undefined) v.tags = { ...patch.tags };
    if (patch.enabled !== undefined) v.enabled = patch.enabled;
    if (patch.nbf !== undefined) v.nbf = patch.nbf;
    if (patch.exp !== undefined) v.exp = patch.exp;
    v.updated = this.#now();
    return ok(this.#view(secret, v));
  }

  /**
   * Deletes a secret with all its versions. With soft delete it stays recoverable until
   * `scheduledPurgeDate` (now + retention days); without, it is gone at once (no dates in the result).
   */
  delete(name: string): SecretResult<SecretVersionView | DeletedSecretView> {
    const secret = this.#live(name);
    if (!secret) return fail({ kind: 'not-found', name });
    const vault = this.#vault();
    if (!vault.enableSoftDelete) {
      this.#secrets.delete(name.toLowerCase());
      return ok(this.#view(secret, secret.versions[secret.versions.length - 1] as StoredVersion));
    }
    const now = this.#now();
    secret.deleted = { deletedDate: now, scheduledPurgeDate: now + vault.softDeleteRetentionInDays * 86_400 };
    return ok(this.#deletedView(secret));
  }

  /** A soft-deleted secret. */
  getDeleted(name: string): SecretResult<DeletedSecretView> {
    const secret = this.#entry(name);
    if (!secret?.deleted) return fail({ kind: 'deleted-not-found', name });
    return ok(this.#deletedView(secret));
  }

  /** Every soft-deleted secret, by name. */
  listDeleted(): DeletedSecretView[] {
    const out: DeletedSecretView[] = [];
    for (const key of [...this.#secrets.keys()].sort()) {
      const secret = this.#entry(key);
      if (secret?.deleted) out.push(this.#deletedView(secret));
    }
    return out;
  }

  /** Brings a soft-deleted secret back with all its versions; returns its current version. */
  recover(name: string): SecretResult<SecretVersionView> {
    const secret = this.#entry(name);
    if (!secret?.deleted) return fail({ kind: 'deleted-not-found', name });
    delete secret.deleted;
    return ok(this.#view(secret, secret.versions[secret.versions.length - 1] as StoredVersion));
  }

  /** Removes a soft-deleted secret for good; refused while the vault has purge protection. */
  purge(name: string): SecretResult<void> {
    const secret = this.#entry(name);
    if (!secret?.deleted) return fail({ kind: 'deleted-not-found', name });
    if (this.#vault().enablePurgeProtection) return fail({ kind: 'purge-protected', name: secret.name });
    this.#secrets.delete(name.toLowerCase());
    return ok(undefined);
  }
}
