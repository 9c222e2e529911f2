/**
 * Workflows of the overhead benchmark: idflow's workflows, plus `handWrittenJoiner`, the
 * reference joiner (definitions/flows/joiner-standard.yaml) written by hand against the same
 * activities, called in the same order — the baseline the interpreter is compared with. The
 * flow's `access` reconcile step is its three activities: plan, the additions, verify.
 */
import {
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RunFlowInput } from '../src/temporal/contracts';

export * from '../workflows';

// the same activities, run the same way as the interpreter runs them (idstore ops and records
// are local activities)
const { runConnectorOp, recordRunOutcome } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: {
    maximumAttempts: 5,
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
  },
});

// remote targets (LDAP, SCIM, SMTP) are regular activities, with the reference connectors' policy
const remote = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    maximumAttempts: 10,
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
  },
});

const WELCOME = {
  name: 'joiner-manager-welcome',
  subject: '{{ person }} starts on {{ startDate }}',
  text: 'Hello {{ manager }},\n\n{{ person }} ({{ username }}) joins your team on {{ startDate }}.\n',
};

export async function handWrittenJoiner(input: RunFlowInput): Promise<{ username: string }> {
  const { event, subject, hash, ir } = input;
  const runId = workflowInfo().workflowId;
  const callOp =
    (run: typeof runConnectorOp, connector: string, connectorType: string) =>
    (op: string, stepId: string, args: Record<string, unknown>) =>
      run({
        connector,
        connectorType,
        op,
        args: args as never,
        idempotencyKey: `${runId}:${stepId}`,
        runId,
        flow: ir.name,
        stepId,
      });
  const call = callOp(runConnectorOp, 'identity-store', 'idstore');
  const directory = callOp(remote.runConnectorOp, 'corp-directory', 'ldap');
  if (!subject.givenName || !subject.familyName) {
    throw ApplicationFailure.nonRetryable(
      `Joiner ${subject.id} has no given or family name`,
      'MissingName',
    );
  }
  const recorded = (await call('upsertPerson', 'record-person', {
    id: subject.id,
    employeeId: subject.employeeId,
    givenName: subject.givenName,
    familyName: subject.familyName,
    displayName: subject.displayName ?? `${subject.givenName} ${subject.familyName}`,
    email: subject.email,
    validFrom: event.effectiveAt,
    status: 'pending',
  })) as { person: { displayName?: string } };
  const firstDay = event.effectiveAt ? Date.parse(event.effectiveAt) : Date.now();
  if (firstDay > Date.now()) await sleep(firstDay - Date.now());
  await call('setStatus', 'activate', {
    personId: subject.id,
    status: 'active',
    reason: 'First working day reached',
  });
  const { username } = (await directory('deriveUsername', 'derive-username', {
    givenName: subject.givenName,
    familyName: subject.familyName,
    owner: subject.id,
  })) as { username: string };
  await call('setAttributes', 'record-username', {
    personId: subject.id,
    attributes: { username },
  });
  // what the flow's reconcile step does: read and plan, the additions, read again and verify
  const access = { runId, flow: ir.name, stepId: 'access', personId: subject.id };
  const plan = await remote.planAccess({ ...access, connectors: [], record: true });
  if (plan.additions.length > 0)
    await remote.applyAccess({
      ...access,
      changes: plan.additions,
      idempotencyKey: `${runId}:access/additions`,
    });
  const verify = await remote.planAccess({ ...access, connectors: [], record: true });
  if (verify.additions.length + verify.removals.length > 0)
    throw ApplicationFailure.nonRetryable('access did not converge', 'AccessNotConverged');
  // the manager as the identity store has them when the run gets here
  const manager = subject.managerId
    ? (
        (await call('getPerson', 'find-manager', { personId: subject.managerId })) as {
          person?: { email?: string; displayName?: string };
        }
      ).person
    : undefined;
  if (manager?.email) {
    await remote.sendNotification({
      channel: 'mail',
      channelType: 'email',
      to: [manager.email],
      template: WELCOME,
      data: {
        manager: manager.displayName ?? 'there',
        person: recorded.person.displayName ?? subject.id,
        username,
        startDate: event.effectiveAt ?? new Date().toISOString(),
      },
      idempotencyKey: `${runId}:welcome-note`,
      runId,
      flow: ir.name,
      stepId: 'welcome-note',
    });
  }
  await recordRunOutcome({
    runId,
    flow: ir.name,
    hash,
    subjectId: subject.id,
    status: 'Completed',
  });
  return { username };
}
