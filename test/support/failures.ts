/** The ApplicationFailure a connector call rejects with (fails the test if it resolves). */
import { ApplicationFailure } from '@temporalio/common';

export async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}
