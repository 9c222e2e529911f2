/**
 * Supervision of the child servers `idflow dev` runs (the Temporal dev server, slapd): a child
 * that exits on its own is started again, with backoff, a bounded number of times in a row.
 * Each exit is logged once with its exit code or signal; when the restarts are used up the
 * supervisor gives up and says so, so the caller can stop instead of serving without it.
 */
import type { Logger } from './logging';

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running child server the supervisor can watch and stop. */
export interface SupervisedChild {
  pid: number | undefined;
  /** Resolves when the process has ended, however it ended. */
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

export interface SuperviseOptions<T extends SupervisedChild> {
  /** What the child is, for log lines: "the Temporal dev server". */
  name: string;
  /** Starts a new child; resolves once it serves. */
  start(): Promise<T>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Restarts in a row before giving up (default 5). */
  maxRestarts?: number;
  /** Delay before the first restart, doubled for each further one (default 1 s). */
  initialBackoffMs?: number;
  /** Longest delay between restarts (default 30 s). */
  maxBackoffMs?: number;
  /** A child that served this long counts as recovered: the restart count starts again (60 s). */
  stableAfterMs?: number;
  /** Called with each new child once it serves. */
  onRestarted?(child: T): void;
  /** Called once when the restarts are used up; the supervisor does nothing after it. */
  onGiveUp(error: Error): void;
}

export interface Supervisor<T extends SupervisedChild> {
  /** The child running now (the last one started). */
  readonly current: T;
  /** How many times the child has been restarted so far. */
  readonly restarts: number;
  /** Stops supervising and stops the current child. */
  stop(): Promise<void>;
  /** Stops supervising and leaves the child alone (it is being shut down in order). */
  release(): void;
}

/** "exit code 1" or "signal SIGKILL". */
export function describeExit(exit: ChildExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
}

/** The exit of a child process as a promise (already-ended processes resolve at once). */
export function exitOf(child: {
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}): Promise<ChildExit> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function sleep(ms: number, signal: { stopped: boolean; wake?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

/** Watches `first` (already started) and restarts it through `options.start` when it exits. */
export function supervise<T extends SupervisedChild>(
  first: T,
  options: SuperviseOptions<T>,
): Supervisor<T> {
  const maxRestarts = options.maxRestarts ?? 5;
  const initial = options.initialBackoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const stableAfter = options.stableAfterMs ?? 60_000;
  const state: { stopped: boolean; wake?: () => void } = { stopped: false };
  let current = first;
  let restarts = 0;
  let inARow = 0;
  let startedAt = Date.now();
  let loop: Promise<void> = Promise.resolve();

  const watch = (child: T): void => {
    loop = child.exited.then((exit) => (state.stopped ? undefined : recover(exit)));
  };

  const recover = async (exit: ChildExit): Promise<void> => {
    if (Date.now() - startedAt >= stableAfter) inARow = 0;
    let reason = describeExit(exit);
    for (;;) {
      if (inARow >= maxRestarts) {
        const error = new Error(
          `${options.name} keeps exiting (last: ${reason}); gave up after ${inARow} restarts in a row`,
        );
        options.log.error({ restarts: inARow, exit: reason }, error.message);
        options.onGiveUp(error);
        return;
      }
      inARow += 1;
      const delay = Math.min(initial * 2 ** (inARow - 1), maxBackoff);
      options.log.warn(
        { exit: reason, attempt: inARow, of: maxRestarts, inMs: delay },
        `${options.name} exited (${reason}); restarting it in ${delay} ms (attempt ${inARow} of ${maxRestarts})`,
      );
      await sleep(delay, state);
      if (state.stopped) return;
      try {
        const child = await options.start();
        if (state.stopped) {
          await child.stop();
          return;
        }
        current = child;
        restarts += 1;
        startedAt = Date.now();
        options.log.info({ childPid: child.pid, restarts }, `${options.name} is running again`);
        options.onRestarted?.(child);
        watch(child);
        return;
      } catch (err) {
        reason = `did not start: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  };

  watch(first);
  return {
    get current() {
      return current;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      state.stopped = true;
      state.wake?.();
      await current.stop();
      await loop;
    },
    release() {
      state.stopped = true;
      state.wake?.();
    },
  };
}
