/**
 * Run graphs for the gateway: the flow a run was started with, drawn with the path it took.
 * An unknown run is a 404; a run that does not answer its state query in time (no worker) a
 * 504; Temporal down a 503.
 */
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { renderGraph, type GraphFormat } from '../../graph';
import {
  loadRunGraph,
  RunDefinitionMissingError,
  RunStateUnavailableError,
} from '../../graph/run-source';
import { RunNotFoundError } from '../../runs/errors';
import { requireRunOf } from '../../runs/subject';
import { HttpProblem, NotFoundProblem } from '../problems';
import { callTemporal, type DependencyMonitor } from './dependencies';

export class RunGraphService {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
    private readonly dependencies?: DependencyMonitor,
  ) {}

  /** The run's diagram; with `onlyOf`, a run about anyone else is a 404 like an unknown one. */
  async draw(workflowId: string, format: GraphFormat, onlyOf?: string): Promise<string> {
    try {
      const source = await callTemporal(
        this.temporal,
        this.dependencies,
        async () => {
          if (onlyOf !== undefined) await requireRunOf(this.temporal, workflowId, onlyOf);
          return loadRunGraph(this.temporal, workflowId, { db: this.db, queryTimeoutMs: 5_000 });
        },
        10_000,
      );
      return renderGraph(source.ir, format, { hash: source.hash, run: source.run });
    } catch (err) {
      if (err instanceof RunNotFoundError || err instanceof RunDefinitionMissingError)
        throw new NotFoundProblem(err.message);
      if (err instanceof RunStateUnavailableError)
        throw new HttpProblem(504, 'run-not-answering', 'No answer in time', err.message, {
          workflowId,
        });
      throw err;
    }
  }
}
