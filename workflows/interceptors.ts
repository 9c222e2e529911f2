/**
 * Workflow interceptors, bundled with every workflow (src/temporal/bundle.ts): each execution
 * decides its patches before its own code runs (workflows/patches.ts).
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { decidePatchesAtStart } from './patches';

export function interceptors(): WorkflowInterceptors {
  return {
    inbound: [
      {
        execute(input, next) {
          decidePatchesAtStart();
          return next(input);
        },
      },
    ],
  };
}
