// The soak receiver's cycle of phases, shared by bench/soak-receiver.ts (which answers by phase)
// and bench/soak.ts (which labels its samples by phase). No side effects.

export interface Phase {
  name: string;
  ms: number;
}

/** The phase of the cycle that started at `cycleStart` (repeating), at `now`. */
export function phaseAt<P extends Phase>(phases: readonly P[], cycleStart: number, now: number): P {
  const cycleMs = phases.reduce((sum, p) => sum + p.ms, 0);
  let t = (now - cycleStart) % cycleMs;
  for (const p of phases) {
    if (t < p.ms) return p;
    t -= p.ms;
  }
  return phases[0] as P; // not reached: t < cycleMs
}
