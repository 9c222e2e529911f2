/**
 * The reference joiner's run input, as the benchmarks start it directly (the interpreter's
 * `runFlow` or the hand-written baseline): the compiled `joiner-standard` from definitions/,
 * and a joiner event for `subject`, who reports to the benchmark's manager.
 */
import { join } from 'node:path';
import { compileSources } from '../src/dsl/compiler';
import { loadSources } from '../src/dsl/load';
import type { RunFlowInput } from '../src/temporal/contracts';
import { makeEvent, ROOT } from '../test/support/harness';

export type JoinerInput = (subject: Record<string, unknown>, effectiveAt: string) => RunFlowInput;

/** A maker of run inputs for the reference joiner; `manager` is every subject's manager. */
export async function referenceJoiner(manager: {
  id: string;
  displayName: string;
  email: string;
}): Promise<JoinerInput> {
  const { sources } = await loadSources([join(ROOT, 'definitions')]);
  const joiner = compileSources(sources).flows.get('joiner-standard');
  if (!joiner) throw new Error('joiner-standard did not compile');
  return (person, effectiveAt) => {
    const subject = { ...person, manager };
    const event = makeEvent('person.joiner', subject, { effectiveAt });
    return {
      ir: joiner.ir,
      hash: joiner.hash,
      event: event as never,
      subject: subject as never,
    };
  };
}
