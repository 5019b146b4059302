/** Types of ensure-deps.mjs, for the tests (the script itself is plain JavaScript). */
export function depsState(
  lockText: string,
  installedText: string | undefined,
  isOnDisk: (path: string) => boolean,
): { fresh: true } | { fresh: false; reason: string };
