/**
 * process.env changes a test makes and undoes: for token sources that read variables, and under
 * isolateSdkEnvironment (./sdk-env.ts) for the Azure SDKs run in this process.
 */
/** Sets and removes variables, keeping each one's value from before its first change for `restore()`. */
export class EnvChanges {
  readonly #saved = new Map<string, string | undefined>();

  /** Remembers `names` as they are now, for a test that then changes them directly. */
  keep(names: Iterable<string>): this {
    for (const name of names) if (!this.#saved.has(name)) this.#saved.set(name, process.env[name]);
    return this;
  }

  /** Sets each variable, or removes it where the value is `undefined`. */
  apply(vars: Readonly<Record<string, string | undefined>>): this {
    for (const [name, value] of Object.entries(vars)) {
      this.keep([name]);
      setVariable(name, value);
    }
    return this;
  }

  /** Puts every changed or kept variable back as it was (removed where it was absent). */
  restore(): void {
    for (const [name, value] of this.#saved) setVariable(name, value);
    this.#saved.clear();
  }
}

function setVariable(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** Runs `fn` with `vars` applied (`undefined`: removed), then restores them whatever happens. */
export async function withEnv<T>(
  vars: Readonly<Record<string, string | undefined>>,
  fn: () => Promise<T>,
): Promise<T> {
  const changes = new EnvChanges().apply(vars);
  try {
    return await fn();
  } finally {
    changes.restore();
  }
}
