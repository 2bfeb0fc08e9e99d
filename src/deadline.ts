// No imports: a ground module (see DESIGN.md's layers).

/**
 * Settles once `work` has, or at `deadline` (a Date.now() time), whichever comes first: the one
 * deadline of an operation, which nothing below it (an exporter's flush, a socket, a retry) can
 * extend. Its timer is ref'd, so a promise handed out with a deadline keeps the process alive until
 * it settles (a top-level `await` of it never ends unsettled), and no longer. Work still under way
 * at the deadline goes on in the background, where what it holds stays accounted for. Never rejects.
 */
export function untilDeadline(deadline: number, work: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}
