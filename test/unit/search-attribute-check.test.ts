import fc from 'fast-check';
import { temporal } from '@temporalio/proto';
import {
  createCommand,
  describeProblem,
  ensureSearchAttributes,
  planSearchAttributes,
  SearchAttributesError,
  typeName,
  type EnsureOptions,
  type OperatorConnection,
} from '../../src/temporal/search-attribute-check';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

const T = temporal.api.enums.v1.IndexedValueType;
const TYPES = ['Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'];
const WHERE = { address: '127.0.0.1:7233', namespace: 'idm' };
const ALL = new Map<string, string>(SEARCH_ATTRIBUTES);

describe('typeName', () => {
  test('each server type by the CLI name, an unknown one as Unspecified(n)', () => {
    expect(
      [
        T.INDEXED_VALUE_TYPE_TEXT,
        T.INDEXED_VALUE_TYPE_KEYWORD,
        T.INDEXED_VALUE_TYPE_INT,
        T.INDEXED_VALUE_TYPE_DOUBLE,
        T.INDEXED_VALUE_TYPE_BOOL,
        T.INDEXED_VALUE_TYPE_DATETIME,
        T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
      ].map(typeName),
    ).toEqual(TYPES);
    expect(typeName(T.INDEXED_VALUE_TYPE_UNSPECIFIED)).toBe('Unspecified(0)');
    expect(typeName(99 as never)).toBe('Unspecified(99)');
  });
});

describe('planSearchAttributes', () => {
  test("an empty namespace lacks all seven of idflow's attributes, in their order", () => {
    expect(planSearchAttributes(new Map())).toEqual({
      missing: [
        ['IdflowFlow', 'Keyword'],
        ['IdflowSubject', 'Keyword'],
        ['IdflowEventType', 'Keyword'],
        ['IdflowStatus', 'Keyword'],
        ['IdflowDefinitionHash', 'Keyword'],
        ['IdflowPendingApprovers', 'KeywordList'],
        ['IdflowOverBudget', 'Bool'],
      ],
      conflicting: [],
    });
  });

  test('all there with their types, and others besides: nothing to do', () => {
    const server = new Map([...ALL, ['CustomKeywordField', 'Keyword'], ['WorkflowId', 'Keyword']]);
    expect(planSearchAttributes(server)).toEqual({ missing: [], conflicting: [] });
  });

  test('a same-named attribute of another type conflicts, with both types; names are exact', () => {
    const server = new Map(ALL);
    server.set('IdflowFlow', 'Text');
    server.set('IdflowOverBudget', 'Keyword');
    server.delete('IdflowSubject');
    server.set('idflowsubject', 'Keyword');
    expect(planSearchAttributes(server)).toEqual({
      missing: [['IdflowSubject', 'Keyword']],
      conflicting: [
        { name: 'IdflowFlow', wanted: 'Keyword', found: 'Text' },
        { name: 'IdflowOverBudget', wanted: 'Bool', found: 'Keyword' },
      ],
    });
  });

  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,11}$/);
  const wantedList = fc.uniqueArray(fc.tuple(name, fc.constantFrom(...TYPES)), {
    selector: ([n]) => n,
    maxLength: 12,
  });

  test('every wanted attribute is matched, missing or conflicting, exactly one of them, in order', () => {
    fc.assert(
      fc.property(
        wantedList,
        fc.array(fc.tuple(name, fc.constantFrom(...TYPES)), { maxLength: 16 }),
        (wanted, serverEntries) => {
          const server = new Map(serverEntries);
          const plan = planSearchAttributes(server, wanted);
          const missing = plan.missing.map(([n]) => n);
          const conflicting = plan.conflicting.map((c) => c.name);
          expect(missing).toEqual(wanted.filter(([n]) => !server.has(n)).map(([n]) => n));
          expect(plan.missing).toEqual(wanted.filter(([n]) => !server.has(n)));
          expect(plan.conflicting).toEqual(
            wanted
              .filter(([n, t]) => server.has(n) && server.get(n) !== t)
              .map(([n, t]) => ({ name: n, wanted: t, found: server.get(n) })),
          );
          for (const [n, t] of wanted) {
            const matched = server.get(n) === t;
            const places = [matched, missing.includes(n), conflicting.includes(n)];
            expect(places.filter(Boolean)).toHaveLength(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('after registering the missing ones, only conflicts remain', () => {
    fc.assert(
      fc.property(
        wantedList,
        fc.array(fc.tuple(name, fc.constantFrom(...TYPES)), { maxLength: 16 }),
        (wanted, serverEntries) => {
          const server = new Map(serverEntries);
          const first = planSearchAttributes(server, wanted);
          for (const [n, t] of first.missing) server.set(n, t);
          expect(planSearchAttributes(server, wanted)).toEqual({
            missing: [],
            conflicting: first.conflicting,
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('messages', () => {
  test('one create command, each name followed by its type, in order', () => {
    expect(createCommand(SEARCH_ATTRIBUTES, WHERE)).toBe(
      'temporal operator search-attribute create --address 127.0.0.1:7233 --namespace idm --name IdflowFlow --type Keyword --name IdflowSubject --type Keyword --name IdflowEventType --type Keyword --name IdflowStatus --type Keyword --name IdflowDefinitionHash --type Keyword --name IdflowPendingApprovers --type KeywordList --name IdflowOverBudget --type Bool',
    );
  });

  test('the problem names each conflict with both types, each missing one with its type, and the fixes', () => {
    expect(
      describeProblem(
        {
          missing: [
            ['IdflowStatus', 'Keyword'],
            ['IdflowOverBudget', 'Bool'],
          ],
          conflicting: [{ name: 'IdflowFlow', wanted: 'Keyword', found: 'Text' }],
        },
        WHERE,
        'the reason',
      ),
    ).toBe(
      [
        `the Temporal namespace "idm" at 127.0.0.1:7233 does not have idflow's search attributes as idflow needs them (the reason):`,
        '  IdflowFlow is Text there; idflow needs Keyword',
        '  IdflowStatus (Keyword) is missing',
        '  IdflowOverBudget (Bool) is missing',
        'add the missing ones with:',
        '  temporal operator search-attribute create --address 127.0.0.1:7233 --namespace idm --name IdflowStatus --type Keyword --name IdflowOverBudget --type Bool',
        "an attribute's type cannot be changed: give idflow a namespace of its own (TEMPORAL_NAMESPACE), or remove the attribute if nothing else uses it (temporal operator search-attribute remove --address 127.0.0.1:7233 --namespace idm --name NAME)",
      ].join('\n'),
    );
  });

  test('no commands without missing ones, no advice on types without conflicts', () => {
    const conflictOnly = describeProblem(
      { missing: [], conflicting: [{ name: 'IdflowFlow', wanted: 'Keyword', found: 'Int' }] },
      WHERE,
      'r',
    );
    expect(conflictOnly).not.toContain('add the missing ones');
    expect(conflictOnly.split('\n')).toHaveLength(3);
    const missingOnly = describeProblem(
      { missing: [['IdflowFlow', 'Keyword']], conflicting: [] },
      WHERE,
      'r',
    );
    expect(missingOnly).not.toContain('cannot be changed');
    expect(missingOnly.split('\n')).toHaveLength(4);
  });
});

/** A namespace's attributes, served as the operator service does. */
class FakeServer implements OperatorConnection {
  custom: Record<string, number> = {};
  system: Record<string, number> | null = { WorkflowId: T.INDEXED_VALUE_TYPE_KEYWORD };
  lists = 0;
  adds: Array<{ namespace: string; searchAttributes: Record<string, number> }> = [];
  deadlines: number[] = [];
  /** Added attributes appear after this many lists. */
  delay = 0;
  pending: Array<{ at: number; attributes: Record<string, number> }> = [];
  addFails: unknown[] = [];
  onList?: () => void;

  operatorService = {
    listSearchAttributes: (request: { namespace: string }) => {
      expect(request).toEqual({ namespace: 'idm' });
      this.lists += 1;
      for (const p of this.pending.filter((p) => p.at <= this.lists))
        Object.assign(this.custom, p.attributes);
      this.pending = this.pending.filter((p) => p.at > this.lists);
      this.onList?.();
      return Promise.resolve({
        customAttributes: { ...this.custom },
        systemAttributes: this.system,
      });
    },
    addSearchAttributes: (request: {
      namespace: string;
      searchAttributes: Record<string, number>;
    }) => {
      this.adds.push(request);
      const failure = this.addFails.shift();
      // a rejection of any kind, as a library may give
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      if (failure) return Promise.reject(failure);
      this.pending.push({ at: this.lists + this.delay, attributes: request.searchAttributes });
      return Promise.resolve({});
    },
  };

  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R> {
    this.deadlines.push(Number(deadline));
    return fn();
  }

  registerAll(): void {
    this.custom = {
      IdflowFlow: T.INDEXED_VALUE_TYPE_KEYWORD,
      IdflowSubject: T.INDEXED_VALUE_TYPE_KEYWORD,
      IdflowEventType: T.INDEXED_VALUE_TYPE_KEYWORD,
      IdflowStatus: T.INDEXED_VALUE_TYPE_KEYWORD,
      IdflowDefinitionHash: T.INDEXED_VALUE_TYPE_KEYWORD,
      IdflowPendingApprovers: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
      IdflowOverBudget: T.INDEXED_VALUE_TYPE_BOOL,
    };
  }
}

const ALL_INDEXED = {
  IdflowFlow: T.INDEXED_VALUE_TYPE_KEYWORD,
  IdflowSubject: T.INDEXED_VALUE_TYPE_KEYWORD,
  IdflowEventType: T.INDEXED_VALUE_TYPE_KEYWORD,
  IdflowStatus: T.INDEXED_VALUE_TYPE_KEYWORD,
  IdflowDefinitionHash: T.INDEXED_VALUE_TYPE_KEYWORD,
  IdflowPendingApprovers: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  IdflowOverBudget: T.INDEXED_VALUE_TYPE_BOOL,
};
const NAMES = SEARCH_ATTRIBUTES.map(([n]) => n);

function grpcError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('ensureSearchAttributes', () => {
  let clock: number;
  let sleeps: number[];
  let logged: unknown[][];
  const options = (over: Partial<EnsureOptions> = {}): EnsureOptions => ({
    ...WHERE,
    mode: 'auto',
    logger: { info: (...args: unknown[]) => logged.push(args) },
    now: () => clock,
    sleep: (ms) => {
      sleeps.push(ms);
      clock += ms;
      return Promise.resolve();
    },
    ...over,
  });
  beforeEach(() => {
    clock = 1_000_000;
    sleeps = [];
    logged = [];
  });

  const failure = async (server: FakeServer, over: Partial<EnsureOptions> = {}) => {
    const err: unknown = await ensureSearchAttributes(server, options(over)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SearchAttributesError);
    return err as SearchAttributesError;
  };

  test('all there: nothing registered, nothing logged, one list with a 10 s deadline', async () => {
    const server = new FakeServer();
    server.registerAll();
    await expect(ensureSearchAttributes(server, options())).resolves.toEqual([]);
    expect(server.adds).toEqual([]);
    expect(server.lists).toBe(1);
    expect(server.deadlines).toEqual([clock + 10_000]);
    expect(logged).toEqual([]);
    await ensureSearchAttributes(server, options({ callTimeoutMs: 5_000 }));
    expect(server.deadlines).toEqual([clock + 10_000, clock + 5_000]);
  });

  test('a system attribute of a wanted name counts; a null map is none', async () => {
    const server = new FakeServer();
    server.registerAll();
    const { IdflowFlow, ...rest } = server.custom;
    server.custom = rest;
    server.system = { IdflowFlow: IdflowFlow! };
    await expect(ensureSearchAttributes(server, options())).resolves.toEqual([]);
    server.system = null;
    await expect(ensureSearchAttributes(server, options({ mode: 'false' }))).rejects.toThrow(
      '  IdflowFlow (Keyword) is missing',
    );
  });

  test('false: only checks, and names all seven missing ones with the commands', async () => {
    const server = new FakeServer();
    const err = await failure(server, { mode: 'false' });
    expect(server.adds).toEqual([]);
    expect(err.plan.missing.map(([n]) => n)).toEqual(NAMES);
    expect(err.message).toBe(
      describeProblem(
        err.plan,
        WHERE,
        'IDFLOW_REGISTER_SEARCH_ATTRIBUTES=false: idflow does not register them',
      ),
    );
    expect(err.message).toContain(
      `add the missing ones with:\n  ${createCommand(SEARCH_ATTRIBUTES, WHERE)}`,
    );
  });

  for (const mode of ['auto', 'true', 'false'] as const)
    test(`a conflict is named and nothing registered (${mode})`, async () => {
      const server = new FakeServer();
      server.custom = { IdflowFlow: T.INDEXED_VALUE_TYPE_TEXT };
      const err = await failure(server, { mode });
      expect(server.adds).toEqual([]);
      expect(err.plan.conflicting).toEqual([
        { name: 'IdflowFlow', wanted: 'Keyword', found: 'Text' },
      ]);
      expect(err.plan.missing).toHaveLength(6);
      expect(err.message).toContain(
        '(some have another type):\n  IdflowFlow is Text there; idflow needs Keyword\n',
      );
    });

  for (const mode of ['auto', 'true'] as const)
    test(`${mode}: registers the missing ones with their types, waits until listed, logs the names`, async () => {
      const server = new FakeServer();
      server.custom = { IdflowFlow: T.INDEXED_VALUE_TYPE_KEYWORD };
      server.delay = 3;
      const registered = await ensureSearchAttributes(server, options({ mode }));
      const rest = Object.fromEntries(
        Object.entries(ALL_INDEXED).filter(([name]) => name !== 'IdflowFlow'),
      );
      expect(server.adds).toEqual([{ namespace: 'idm', searchAttributes: rest }]);
      expect(registered).toEqual(NAMES.slice(1));
      // listed before adding, then until they appear
      expect(server.lists).toBe(4);
      expect(sleeps).toEqual([500, 500]);
      expect(logged).toEqual([
        [{ namespace: 'idm', registered: NAMES.slice(1) }, 'search attributes registered'],
      ]);
    });

  test('another process registering at the same moment (AlreadyExists) is fine', async () => {
    const server = new FakeServer();
    // the other process's registration of two of them lands; ours is refused whole
    server.addFails = [grpcError(6, 'already exists')];
    server.onList = () => {
      if (server.lists === 2)
        Object.assign(server.custom, {
          IdflowFlow: T.INDEXED_VALUE_TYPE_KEYWORD,
          IdflowSubject: T.INDEXED_VALUE_TYPE_KEYWORD,
        });
    };
    await expect(ensureSearchAttributes(server, options())).resolves.toEqual(NAMES);
    expect(server.adds.map((a) => Object.keys(a.searchAttributes))).toEqual([
      NAMES,
      NAMES.slice(2),
    ]);
    expect(server.lists).toBe(3);
  });

  test('a second AlreadyExists is retried again; a plain success is not', async () => {
    const server = new FakeServer();
    server.addFails = [grpcError(6, 'already exists'), grpcError(6, 'already exists')];
    await expect(ensureSearchAttributes(server, options())).resolves.toEqual(NAMES);
    expect(server.adds).toHaveLength(3);
    expect(server.lists).toBe(4);
  });

  test.each([
    [
      7,
      'PermissionDenied',
      `the server does not let idflow register them (PermissionDenied: 7 PERMISSION_DENIED: no); on Temporal Cloud add them in the Cloud UI or with tcld`,
    ],
    [
      12,
      'Unimplemented',
      `the server does not let idflow register them (Unimplemented: 12 UNIMPLEMENTED: no); on Temporal Cloud add them in the Cloud UI or with tcld`,
    ],
    [3, 'InvalidArgument', 'registering them failed: 3 INVALID_ARGUMENT: no'],
  ])('a refusal (%s) names every missing one with the commands', async (code, name, reason) => {
    const server = new FakeServer();
    server.addFails = [
      grpcError(code, `${code} ${name.replace(/([a-z])([A-Z])/, '$1_$2').toUpperCase()}: no`),
    ];
    const err = await failure(server);
    expect(err.message).toBe(
      describeProblem({ missing: [...SEARCH_ATTRIBUTES], conflicting: [] }, WHERE, reason),
    );
    expect(server.lists).toBe(1);
  });

  test('an error without a code is a failure, its text kept', async () => {
    const server = new FakeServer();
    server.addFails = [new Error('broken pipe')];
    expect((await failure(server)).message).toContain('(registering them failed: broken pipe):');
    // not an Error at all: its text
    server.addFails = ['reset by peer'];
    expect((await failure(server)).message).toContain('(registering them failed: reset by peer):');
  });

  test('an error listing them is thrown as it is', async () => {
    const server = new FakeServer();
    const down = grpcError(14, 'unavailable');
    server.operatorService.listSearchAttributes = () => Promise.reject(down);
    await expect(ensureSearchAttributes(server, options())).rejects.toBe(down);
  });

  test('registered but never listed: gives up exactly at the bound, naming the ones not listed', async () => {
    const server = new FakeServer();
    server.delay = 1_000;
    const err = await failure(server, { waitMs: 2_000, pollMs: 500 });
    // lists at 0, 500, 1000, 1500 ms wait, then at 2000 ms: the bound
    expect(sleeps).toEqual([500, 500, 500, 500]);
    expect(server.lists).toBe(6);
    expect(err.message).toContain(
      '(they were registered but the server did not list them within 2 s):',
    );
    expect(err.plan.missing).toHaveLength(7);
  });

  test('listed at the last poll before the bound: registered', async () => {
    const server = new FakeServer();
    server.delay = 5;
    await expect(
      ensureSearchAttributes(server, options({ waitMs: 2_000, pollMs: 500 })),
    ).resolves.toEqual(NAMES);
    expect(server.lists).toBe(6);
  });

  test('the default bound is 30 s', async () => {
    const server = new FakeServer();
    server.delay = 1_000;
    const err = await failure(server);
    expect(sleeps).toHaveLength(60);
    expect(err.message).toContain('within 30 s');
  });

  test('a conflict appearing while waiting is named', async () => {
    const server = new FakeServer();
    server.delay = 1_000;
    server.onList = () => {
      if (server.lists === 3) server.custom.IdflowStatus = T.INDEXED_VALUE_TYPE_INT;
    };
    const err = await failure(server);
    expect(err.plan.conflicting).toEqual([
      { name: 'IdflowStatus', wanted: 'Keyword', found: 'Int' },
    ]);
    expect(err.message).toContain('(some have another type)');
  });
});
