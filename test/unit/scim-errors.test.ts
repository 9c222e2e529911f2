/**
 * SCIM error documents (RFC 7644 §3.12) for every problem the gateway answers under /scim/v2:
 * a ScimProblem keeps its scimType, a generic problem gets the scimType its kind stands for
 * (a JSON syntax error, a field error, a conflict), other statuses none; the status is text.
 */
import {
  ConflictProblem,
  HttpProblem,
  UnauthorizedProblem,
  UnavailableProblem,
  ValidationProblem,
} from '../../src/gateway/problems';
import {
  SCIM_ERROR_SCHEMA,
  ScimProblem,
  badRequest,
  isScimPath,
  scimErrorBody,
} from '../../src/scim/errors';

test.each([
  ['/scim/v2', true],
  ['/scim/v2/Users', true],
  ['/SCIM/V2/users/x', true],
  ['/scim/v2x', false],
  ['/scim', false],
  ['/v1/scim/v2', false],
])('%s is under the SCIM base: %s', (path, expected) => {
  expect(isScimPath(path)).toBe(expected);
});

test('a SCIM problem keeps its status, scimType, detail and headers', () => {
  const problem = new ScimProblem(412, undefined, 'stale', { ETag: 'W/"2"' });
  expect(scimErrorBody(problem)).toEqual({
    schemas: [SCIM_ERROR_SCHEMA],
    status: '412',
    detail: 'stale',
  });
  expect(problem.headers).toEqual({ ETag: 'W/"2"' });
  expect(scimErrorBody(badRequest('invalidPath', 'Operations[0]: bad'))).toEqual({
    schemas: [SCIM_ERROR_SCHEMA],
    status: '400',
    scimType: 'invalidPath',
    detail: 'Operations[0]: bad',
  });
});

test.each([
  [
    new HttpProblem(400, 'invalid-json', 'The body is not valid JSON', 'at character 3'),
    '400',
    'invalidSyntax',
  ],
  [
    new ValidationProblem('query', [{ path: '/count', message: 'must be text' }]),
    '400',
    'invalidValue',
  ],
  [
    new HttpProblem(400, 'invalid-value', 'A value cannot be stored', 'too long'),
    '400',
    'invalidValue',
  ],
  [new HttpProblem(400, 'invalid-path', 'The path is not valid', 'segment 3'), '400', undefined],
  [new ConflictProblem('taken'), '409', 'uniqueness'],
  [new HttpProblem(409, 'other', 'Conflict', 'x'), '409', undefined],
  [new HttpProblem(404, 'conflict', 'Odd', 'x'), '404', undefined],
  [new UnauthorizedProblem('send an API token'), '401', undefined],
  [new UnavailableProblem('Temporal'), '503', undefined],
])('%p is status %s, scimType %s', (problem, status, scimType) => {
  const body = scimErrorBody(problem);
  expect(body.schemas).toEqual([SCIM_ERROR_SCHEMA]);
  expect(body.status).toBe(status);
  expect(body.scimType).toBe(scimType);
  expect(body.detail).toBe(problem.detail);
});

test('a problem without a detail says its title', () => {
  expect(scimErrorBody(new HttpProblem(418, 'x', 'A title')).detail).toBe('A title');
});
