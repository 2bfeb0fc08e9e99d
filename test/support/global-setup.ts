import { ensureBuilt } from '../../scripts/ensure-built.ts';

// Process-level tests load the built package (dist/), as users do: never stale output.
export default function setup(): void {
  ensureBuilt();
}
