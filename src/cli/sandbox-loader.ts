import type * as SandboxModule from '@imagepull/sandbox';

/** The simulator package, as the CLI's sandbox commands use it. */
export type SandboxPackage = typeof SandboxModule;

/** Thrown when the simulator is not installed (the production image carries none). */
export class SandboxMissingError extends Error {
  override readonly name = 'SandboxMissingError';
  readonly code = 'ipb_sandbox_missing';
}

// A variable specifier: the bot's build must not follow it into the simulator (docs/architecture.md, "Packages").
const SANDBOX_PACKAGE = '@imagepull/sandbox';

/**
 * Loads the simulator on demand (`demo`, `sandbox`, `diagnose --sandbox`). It is a development workspace package: a
 * clone has it after `npm ci`; the production image does not, and these commands then say so instead of crashing.
 */
export async function loadSandbox(): Promise<SandboxPackage> {
  try {
    return (await import(SANDBOX_PACKAGE)) as SandboxPackage;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(e).includes(SANDBOX_PACKAGE)) {
      throw new SandboxMissingError(
        'the sandbox is not installed here: it is a development package (packages/sandbox). Run this from a clone of the repository after `npm ci`.',
      );
    }
    throw e;
  }
}
