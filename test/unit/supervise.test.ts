/**
 * Supervision of child servers: a child that dies is restarted (each exit logged once, with its
 * code or signal), a bounded number of times in a row with growing delays; then the supervisor
 * gives up once and restarts nothing more. A stopped or released supervisor restarts nothing.
 */
import { spawn } from 'node:child_process';
import { exitOf, supervise, type SupervisedChild } from '../../src/supervise';

interface Line {
  level: 'info' | 'warn' | 'error';
  message: string;
}

function recorder(): { lines: Line[]; log: Parameters<typeof supervise>[1]['log'] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (_obj: unknown, message?: string) => {
    lines.push({ level, message: message ?? String(_obj) });
  };
  return {
    lines,
    log: { info: at('info'), warn: at('warn'), error: at('error') } as never,
  };
}

/** A real child process: sleeps until killed, or exits with `code` after `afterMs`. */
function child(exit?: { code: number; afterMs: number }): SupervisedChild & { kill(): void } {
  const script = exit
    ? `setTimeout(() => process.exit(${exit.code}), ${exit.afterMs})`
    : 'setInterval(() => {}, 1000)';
  const p = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  const exited = exitOf(p);
  return {
    pid: p.pid,
    exited,
    kill: () => p.kill('SIGKILL'),
    async stop() {
      p.kill('SIGTERM');
      await exited;
    },
  };
}

function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

test('a killed child is restarted once per exit, the exit logged once with its signal', async () => {
  const { lines, log } = recorder();
  const first = child();
  const started: Array<ReturnType<typeof child>> = [];
  const onGiveUp = jest.fn();
  const s = supervise(first, {
    name: 'the test server',
    start: () => {
      const c = child();
      started.push(c);
      return Promise.resolve(c);
    },
    log,
    initialBackoffMs: 10,
    onGiveUp,
  });
  first.kill();
  await until(() => s.restarts === 1);
  expect(s.current).toBe(started[0]);
  expect(s.current.pid).not.toBe(first.pid);
  started[0]?.kill();
  await until(() => s.restarts === 2);
  expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
    'the test server exited (signal SIGKILL); restarting it in 10 ms (attempt 1 of 5)',
    'the test server exited (signal SIGKILL); restarting it in 20 ms (attempt 2 of 5)',
  ]);
  expect(lines.filter((l) => l.level === 'info')).toHaveLength(2);
  await s.stop();
  expect(onGiveUp).not.toHaveBeenCalled();
  expect(started).toHaveLength(2);
});

test('a child that keeps exiting is restarted a bounded number of times, with backoff, then given up once', async () => {
  const { lines, log } = recorder();
  const errors: Error[] = [];
  let starts = 0;
  const s = supervise(child({ code: 3, afterMs: 0 }), {
    name: 'the flaky server',
    start: () => {
      starts += 1;
      return Promise.resolve(child({ code: 3, afterMs: 0 }));
    },
    log,
    maxRestarts: 3,
    initialBackoffMs: 50,
    onGiveUp: (e) => errors.push(e),
  });
  await until(() => errors.length > 0);
  await new Promise((r) => setTimeout(r, 300));
  expect(starts).toBe(3);
  expect(errors).toHaveLength(1);
  expect(errors[0]?.message).toBe(
    'the flaky server keeps exiting (last: exit code 3); gave up after 3 restarts in a row',
  );
  const warnings = lines.filter((l) => l.level === 'warn');
  expect(warnings.map((l) => l.message)).toEqual([
    'the flaky server exited (exit code 3); restarting it in 50 ms (attempt 1 of 3)',
    'the flaky server exited (exit code 3); restarting it in 100 ms (attempt 2 of 3)',
    'the flaky server exited (exit code 3); restarting it in 200 ms (attempt 3 of 3)',
  ]);
  expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
  await s.stop();
});

test('a start that fails counts as a failed restart and names why', async () => {
  const { lines, log } = recorder();
  const onGiveUp = jest.fn();
  const first = child();
  const s = supervise(first, {
    name: 'the server',
    start: () => Promise.reject(new Error('port 1234 is taken')),
    log,
    maxRestarts: 2,
    initialBackoffMs: 5,
    onGiveUp,
  });
  first.kill();
  await until(() => onGiveUp.mock.calls.length === 1);
  expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
    'the server exited (signal SIGKILL); restarting it in 5 ms (attempt 1 of 2)',
    'the server exited (did not start: port 1234 is taken); restarting it in 10 ms (attempt 2 of 2)',
  ]);
  expect((onGiveUp.mock.calls[0] as [Error])[0].message).toContain('did not start');
  await s.stop();
});

test('a child that stayed up long enough starts the restart count again', async () => {
  const { log } = recorder();
  const onGiveUp = jest.fn();
  const s = supervise(child({ code: 1, afterMs: 120 }), {
    name: 'the server',
    start: () => Promise.resolve(child({ code: 1, afterMs: 120 })),
    log,
    maxRestarts: 1,
    initialBackoffMs: 5,
    stableAfterMs: 100,
    onGiveUp,
  });
  await until(() => s.restarts >= 3, 15_000);
  expect(onGiveUp).not.toHaveBeenCalled();
  await s.stop();
});

test('stopping or releasing a supervisor restarts nothing', async () => {
  const { log } = recorder();
  const start = jest.fn(() => Promise.resolve(child()));
  const first = child();
  const stopped = supervise(first, {
    name: 'a',
    start,
    log,
    initialBackoffMs: 5,
    onGiveUp: jest.fn(),
  });
  await stopped.stop();
  expect((await first.exited).signal).toBe('SIGTERM');

  const second = child();
  const released = supervise(second, {
    name: 'b',
    start,
    log,
    initialBackoffMs: 5,
    onGiveUp: jest.fn(),
  });
  released.release();
  second.kill();
  await second.exited;
  await new Promise((r) => setTimeout(r, 100));
  expect(start).not.toHaveBeenCalled();
});
