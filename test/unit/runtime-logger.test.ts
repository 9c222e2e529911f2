/**
 * The Temporal SDK's log through idflow's logger: a warning repeated while the server is down
 * is logged once per window, and the next one after the window says how many were held back.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { temporalLogger } from '../../src/temporal/runtime-logger';

function capture(): { lines: Array<Record<string, unknown>>; log: pino.Logger } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, stream) };
}

test('repeated warnings are logged once per window, then with the count held back', () => {
  const { lines, log } = capture();
  let t = 0;
  const sdk = temporalLogger(log, { windowMs: 60_000, now: () => t });
  for (let i = 0; i < 300; i++) {
    t = i * 100; // 30 s of failed polls, ten a second
    sdk.warn(`Error when polling for workflow task (attempt ${i})`, { sdkComponent: 'core' });
  }
  sdk.warn('Another problem');
  expect(lines.map((l) => l.msg)).toEqual([
    'Error when polling for workflow task (attempt 0)',
    'Another problem',
  ]);
  t = 61_000;
  sdk.warn('Error when polling for workflow task (attempt 999)');
  expect(lines[2]).toMatchObject({
    level: 40,
    repeatsSuppressed: 299,
    msg: 'Error when polling for workflow task (attempt 999) (and 299 more like it in the last 61 s)',
  });
  expect(lines[0]).not.toHaveProperty('sdkComponent');
});

test("one run's failure never hides another's", () => {
  const { lines, log } = capture();
  const sdk = temporalLogger(log);
  sdk.warn('Activity failed', { workflowId: 'flow/a', activityId: '3', taskToken: 'x' });
  sdk.warn('Activity failed', { workflowId: 'flow/b', activityId: '3' });
  sdk.warn('Activity failed', { workflowId: 'flow/b', activityId: '3' });
  expect(lines.map((l) => l.workflowId)).toEqual(['flow/a', 'flow/b']);
  expect(lines[0]).not.toHaveProperty('taskToken');
});

test('info lines pass through, and levels below the logger level are dropped', () => {
  const { lines, log } = capture();
  const sdk = temporalLogger(log);
  sdk.info('Worker state changed', { state: 'RUNNING' });
  sdk.info('Worker state changed', { state: 'RUNNING' });
  sdk.debug('noise');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ level: 30, state: 'RUNNING', component: 'temporal-sdk' });
});
