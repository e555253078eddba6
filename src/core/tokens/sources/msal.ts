import type * as Msal from '@azure/msal-node';

let loading: Promise<typeof Msal> | undefined;
let loaded: typeof Msal | undefined;

/**
 * msal-node, imported on first use. Importing it costs ~85 ms, which every process that loads azimds
 * (each test suite, each CLI command) would otherwise pay, though only service-principal sources use it.
 */
export function loadMsal(): Promise<typeof Msal> {
  loading ??= import('@azure/msal-node').then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/** msal-node after `loadMsal()` resolved; msal only calls azimds's network client once it is loaded. */
export function msal(): typeof Msal {
  if (!loaded) throw new Error('msal-node is used before loadMsal() resolved');
  return loaded;
}

/** An msal `AuthError` (or subclass), recognised by shape so that no import is needed to tell. */
export function isAuthError(error: unknown): error is Msal.AuthError {
  const e = error as { errorCode?: unknown; errorMessage?: unknown } | null;
  return error instanceof Error && typeof e?.errorCode === 'string' && typeof e.errorMessage === 'string';
}
