/**
 * How `idflow persons show` and `idflow plan person` print a person's access and a plan: short
 * sections of aligned columns a person reads top to bottom (`--json` prints the data instead).
 */
import type { AccessPlan, Change, HeldBack, PlannedHold } from '../access/types';
import type { PersonAccessView } from '../gateway/services/persons';

/** Columns aligned under a header, each cell on one line (control characters are shown as `?`). */
export function table(header: string[], rows: string[][], indent = '  '): string {
  // eslint-disable-next-line no-control-regex
  const clean = (cell: string) => cell.replace(/[\u0000-\u001f\u007f]/g, '?');
  const all = [header, ...rows].map((row) => row.map(clean));
  const widths = header.map((_, i) => Math.max(...all.map((row) => [...(row[i] ?? '')].length)));
  return all
    .map((row) =>
      (
        indent +
        row
          .map((cell, i) =>
            i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length),
          )
          .join('  ')
      ).trimEnd(),
    )
    .join('\n');
}

const iso = (d: Date | string) =>
  (typeof d === 'string' ? d : d.toISOString()).replace(/\.000Z$/, 'Z');

function section(title: string, body: string): string {
  return `\n${title}\n${body}`;
}

/** A person, their roles and why, accounts and entitlements as last read, grants and runs. */
export function renderPerson(view: PersonAccessView): string {
  const p = view.person;
  const name = p.displayName ?? ([p.givenName, p.familyName].filter(Boolean).join(' ') || p.id);
  const facts = [
    p.employeeId && `employee ${p.employeeId}`,
    p.email,
    p.department,
    p.title,
    p.managerId && `manager ${p.managerId}`,
  ].filter(Boolean);
  const out = [`${name} (${p.id}) — ${p.status}`];
  if (facts.length) out.push(`  ${facts.join(' · ')}`);

  out.push(
    section(
      'Roles',
      view.noAccessBecause
        ? `  none: ${view.noAccessBecause}, so no role gives access`
        : view.roles.length
          ? table(
              ['ROLE', 'TITLE', 'WHY'],
              view.roles.map((r) => [r.name, r.title, r.why]),
            )
          : '  none: no active role applies',
    ),
  );
  if (view.problems.length)
    out.push(section('Problems', view.problems.map((m) => `  ! ${m}`).join('\n')));

  const heldOn = new Set(view.holds.map((h) => h.connector));
  out.push(
    section(
      'Accounts (as idflow last read them from the targets)',
      view.accounts.length
        ? table(
            ['CONNECTOR', 'ACCOUNT', 'STATUS', 'TARGET ID', 'LAST READ'],
            view.accounts.map((a) => [
              a.connector,
              a.accountName,
              heldOn.has(a.connector) ? `${a.status}, held` : a.status,
              a.targetId ?? '-',
              iso(a.lastReadAt),
            ]),
          )
        : '  none recorded (a reconcile step records what it reads)',
    ),
  );
  if (view.holds.length)
    out.push(
      section(
        'Holds (each keeps the account disabled until released)',
        table(
          ['CONNECTOR', 'REASON', 'PLACED BY', 'SINCE', 'HOLD'],
          view.holds.map((h) => [h.connector, h.reason, h.placedBy, iso(h.placedAt), h.id]),
        ),
      ),
    );
  const held = view.accounts.flatMap((a) =>
    a.entitlements.map((e) => [a.connector, `${e.kind} ${e.value}`, e.source, iso(e.grantedAt)]),
  );
  if (held.length)
    out.push(
      section(
        'Entitlements (as last read)',
        table(['CONNECTOR', 'ENTITLEMENT', 'SOURCE', 'SEEN SINCE'], held),
      ),
    );

  out.push(
    section(
      'Explicit grants',
      view.grants.length
        ? table(
            ['GRANT', 'ACCESS', 'UNTIL', 'GRANTED BY', 'REASON'],
            view.grants.map((g) => [
              g.id,
              g.role !== undefined
                ? `role ${g.role}`
                : `${g.entitlement?.connector}: ${g.entitlement?.kind} ${g.entitlement?.value}`,
              g.validUntil ? iso(g.validUntil) : 'until revoked',
              `${g.grantedBy} at ${iso(g.grantedAt)}`,
              g.reason ?? '',
            ]),
          )
        : '  none',
    ),
  );

  out.push(
    section(
      'Recent runs',
      view.runs.length
        ? table(
            ['RECEIVED', 'EVENT', 'FLOW', 'WORKFLOW'],
            view.runs.map((r) => [iso(r.receivedAt), r.event.type, r.flow, r.workflowId]),
          )
        : '  none',
    ),
  );
  return out.join('\n');
}

/** What a change does, in words: `add group deployers`, `disable account`. */
export function describeChange(change: Change): string {
  switch (change.op) {
    case 'createAccount':
      return 'create account';
    case 'enableAccount':
      return 'enable account';
    case 'updateAccount': {
      const fields = Object.keys(change.attributes ?? {});
      return fields.length ? `update account (${fields.join(', ')})` : 'update account';
    }
    case 'disableAccount':
      return 'disable account';
    case 'deleteAccount':
      return 'delete account';
    case 'addEntitlement':
      return `add ${change.kind} ${change.value}`;
    case 'removeEntitlement':
      return `remove ${change.kind} ${change.value}`;
    default: {
      const never: never = change.op;
      return String(never);
    }
  }
}

const changeRow = (c: Change) => [c.connector, c.account || '-', describeChange(c), c.why];

function heldBackRow(h: HeldBack): string[] {
  const action = h.action === 'block' ? 'refused' : 'waits for an approval';
  return [h.change.connector, describeChange(h.change), `${action}: ${h.reason}`];
}

/** Accounts holds keep disabled: never enabled or created by the plan while held. */
function holdsSection(holds: readonly PlannedHold[]): string {
  return section(
    'Held (kept disabled until released)',
    table(
      ['CONNECTOR', 'ACCOUNT', 'REASON', 'PLACED BY', 'SINCE'],
      holds.map((h) => [
        h.connector,
        h.account || '- (not created while held)',
        h.reason,
        h.placedBy,
        iso(h.placedAt),
      ]),
    ),
  );
}

/** True when carrying out the plan would change nothing. */
function nothingToDo(plan: AccessPlan): boolean {
  return (
    plan.removals.length === 0 &&
    plan.additions.length === 0 &&
    plan.heldBack.length === 0 &&
    plan.kept.length === 0 &&
    plan.problems.length === 0
  );
}

/** The plan: removals then additions, held back and kept changes, what is left alone. */
export function renderPlan(plan: AccessPlan): string {
  const on = plan.connectors.length ? ` on ${plan.connectors.join(', ')}` : '';
  const out = [
    `Access plan for ${plan.personId} (${plan.status})${on} — a preview, nothing changed`,
  ];
  if (plan.roles.length)
    out.push(`  roles: ${plan.roles.map((r) => `${r.name} (${r.why})`).join('; ')}`);

  if (nothingToDo(plan)) {
    out.push(`\nno changes: ${plan.personId} has exactly their desired access`);
    if (plan.holds.length) out.push(holdsSection(plan.holds));
  } else {
    const changes = [...plan.removals, ...plan.additions];
    if (changes.length)
      out.push(
        section(
          'Changes (removals first)',
          table(['CONNECTOR', 'ACCOUNT', 'CHANGE', 'WHY'], changes.map(changeRow)),
        ),
      );
    if (plan.holds.length) out.push(holdsSection(plan.holds));
    if (plan.heldBack.length)
      out.push(
        section(
          'Held back by separation of duties',
          table(['CONNECTOR', 'CHANGE', 'REASON'], plan.heldBack.map(heldBackRow)),
        ),
      );
    if (plan.kept.length)
      out.push(
        section(
          'Kept for the grace period',
          table(['CONNECTOR', 'ACCOUNT', 'CHANGE', 'WHY'], plan.kept.map(changeRow)),
        ),
      );
    if (plan.problems.length)
      out.push(
        section(
          'Problems (a reconcile step would not carry this plan out)',
          plan.problems.map((m) => `  ! ${m}`).join('\n'),
        ),
      );
  }
  const unmanaged = Object.entries(plan.unmanaged).filter(([, n]) => n > 0);
  if (unmanaged.length)
    out.push(
      section(
        'Left alone',
        unmanaged
          .map(
            ([connector, n]) =>
              `  ${connector}: ${n} unmanaged ${n === 1 ? 'entitlement' : 'entitlements'} left alone (no role or grant names them)`,
          )
          .join('\n'),
      ),
    );
  return out.join('\n');
}
