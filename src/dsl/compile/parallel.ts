/**
 * The `parallel` step: branches that run at the same time, each a list of steps. Every branch
 * starts from what has happened before the step and sees nothing of its siblings (they are not
 * ordered against it); after the step, everything every branch did has happened, since the
 * step completes only when all of its branches have.
 */
import type { Path } from '../diagnostics';
import type { ParallelBranchIR, StepIR } from '../ir';
import type { ParallelStep, Step } from '../schema';
import { cloneState, type FlowCompiler, type FlowState } from './flow';

/** Every `set` of a variable in `steps`, nested steps included, with where it is written. */
function setsIn(steps: readonly Step[], path: Path): Array<{ name: string; path: Path }> {
  return steps.flatMap((step, i) => {
    const at = [...path, i];
    if ('set' in step)
      return Object.keys(step.set).map((name) => ({ name, path: [...at, 'set', name] }));
    if ('if' in step) {
      return [
        ...setsIn(step.if.then, [...at, 'if', 'then']),
        ...(step.if.else ? setsIn(step.if.else, [...at, 'if', 'else']) : []),
      ];
    }
    if ('switch' in step) {
      return [
        ...step.switch.cases.flatMap((c, j) =>
          setsIn(c.then, [...at, 'switch', 'cases', j, 'then']),
        ),
        ...(step.switch.default ? setsIn(step.switch.default, [...at, 'switch', 'default']) : []),
      ];
    }
    if ('parallel' in step) {
      return step.parallel.branches.flatMap((b, j) =>
        setsIn(b.steps, [...at, 'parallel', 'branches', j, 'steps']),
      );
    }
    return [];
  });
}

/** After branches that all ran to the end: what any of them did has happened. */
function joinStates(id: string, branches: FlowState[]): FlowState {
  if (branches.some((b) => b.endedBy)) {
    return { ...cloneState(branches[0] as FlowState), endedBy: id };
  }
  return {
    done: new Set(branches.flatMap((b) => [...b.done])),
    set: new Set(branches.flatMap((b) => [...b.set])),
  };
}

export function compileParallel(
  fc: FlowCompiler,
  step: ParallelStep,
  path: Path,
  state: FlowState,
): { ir?: StepIR; state: FlowState } {
  const at = [...path, 'parallel'];
  const ids = new Map<string, number>();
  const setBy = new Map<string, string>();
  const branches: ParallelBranchIR[] = [];
  const states: FlowState[] = [];
  step.parallel.branches.forEach((branch, i) => {
    const where = [...at, 'branches', i];
    const first = ids.get(branch.id);
    if (first !== undefined) {
      fc.error(
        [...where, 'id'],
        'duplicate-branch-id',
        `branch id '${branch.id}' is used twice in step '${step.id}' (branch ${first + 1} has it); branch ids must be unique within the step`,
      );
    } else ids.set(branch.id, i);
    for (const set of setsIn(branch.steps, [...where, 'steps'])) {
      const other = setBy.get(set.name);
      if (other !== undefined && other !== branch.id) {
        fc.error(
          set.path,
          'parallel-var-conflict',
          `vars.${set.name} is also set in branch '${other}', which runs at the same time as branch '${branch.id}', so which value wins would depend on timing; set it in one branch only, or after step '${step.id}'`,
        );
      } else setBy.set(set.name, branch.id);
    }
    const compiled = fc.list(branch.steps, [...where, 'steps'], cloneState(state));
    branches.push({ id: branch.id, title: branch.title ?? branch.id, steps: compiled.ir });
    states.push(compiled.state);
  });
  return {
    ir: {
      kind: 'parallel',
      id: step.id,
      title: step.title ?? step.id,
      failFast: step.parallel.failFast ?? false,
      branches,
    },
    state: joinStates(step.id, states),
  };
}
