/**
 * How a source may send its events: a source whose definition says `auth.bearer: false` takes
 * only signed webhook deliveries, so an API token — even an admin's — cannot send events in
 * its name. A source with no definition takes tokens, as before sources were defined.
 */
import { isDatabaseUnavailable } from '../../db/errors';
import type { ActiveSources } from '../../sources/active';
import type { RefusalNote } from '../middleware/refusals';
import { ForbiddenProblem, UnavailableProblem } from '../problems';

/** The check `POST /v1/events` makes: resolves, or throws 403 naming the signed route. */
export function bearerSourceCheck(sources: ActiveSources): (source: string) => Promise<void> {
  return async (name) => {
    let source;
    try {
      source = await sources.get(name);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw new UnavailableProblem('PostgreSQL');
      throw err;
    }
    if (!source || source.bearer) return;
    const refusal: RefusalNote = { reason: 'signed-only-source', source: name };
    throw Object.assign(
      new ForbiddenProblem(
        `source '${name}' takes only signed webhook deliveries (POST /v1/webhooks/${name}), not API tokens`,
      ),
      { refusal },
    );
  };
}
