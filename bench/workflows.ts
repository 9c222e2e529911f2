/**
 * Workflows of the overhead benchmark: idflow's workflows, plus `handWrittenJoiner`, the
 * reference joiner written by hand against the same activities — the baseline the
 * interpreter is compared with.
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
  const crm = callOp(remote.runConnectorOp, 'crm', 'scim');
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
  const cn = subject.displayName ?? `${subject.givenName} ${subject.familyName}`;
  await directory('createAccount', 'directory-account', {
    id: username,
    owner: subject.id,
    attributes: {
      cn,
      givenName: subject.givenName,
      sn: subject.familyName,
      mail: subject.email ?? '',
      title: subject.title ?? '',
      departmentNumber: subject.department ?? '',
    },
    groups: ['all-staff'],
  });
  await call('setAttributes', 'record-username', {
    personId: subject.id,
    attributes: { username },
  });
  await crm('createUser', 'crm-user', {
    owner: subject.id,
    user: {
      userName: username,
      displayName: cn,
      name: { givenName: subject.givenName, familyName: subject.familyName },
      active: true,
    },
  });
  if (subject.manager?.email) {
    await remote.sendNotification({
      channel: 'mail',
      channelType: 'email',
      to: [subject.manager.email],
      template: WELCOME,
      data: {
        manager: subject.manager.displayName ?? 'there',
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
