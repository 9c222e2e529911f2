/**
 * idflow's failure converter: a failure's message and stack trace travel in its encoded
 * attributes (a payload, so the payload codec encrypts it) instead of in clear; Temporal's
 * failure shows "Encoded failure" until decoded. Loaded by path (`failureConverter` export)
 * into the worker, the workflow bundle and every client, so all of them decode alike.
 *
 * Sandbox-safe: it runs inside the workflow sandbox too.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
