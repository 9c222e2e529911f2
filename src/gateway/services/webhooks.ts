/**
 * Signed webhook deliveries (`POST /v1/webhooks/{source}`): who may deliver is decided by the
 * source's Standard Webhooks secrets, not a token; what is delivered is an idflow event, taken
 * through the same path as `POST /v1/events` (deduplicated, ordered per person). A delivery is
 * recorded by its webhook-id once its event was accepted, so the same id again is a replay:
 * answered like the first, nothing started. Every refusal and replay is audited, aggregated.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../db/client';
import { isDatabaseUnavailable } from '../../db/errors';
import { findEvent } from '../../db/repos/events';
import { findDelivery, pruneDeliveries, recordDelivery } from '../../db/repos/webhook-deliveries';
import { canonicalJson } from '../../dsl/hash';
import type { SourceIR } from '../../dsl/ir';
import { EventSource, dispatchWorkflowId, type IdentityEvent } from '../../model/event';
import type { ActiveSources } from '../../sources/active';
import type { WebhookSecrets } from '../../sources/webhook-secrets';
import {
  parseWebhookHeaders,
  verifyWebhook,
  type WebhookHeaders,
} from '../../sources/webhook-signature';
import type { RunRef } from '../../temporal/contracts';
import { ConflictProblem, HttpProblem, UnavailableProblem } from '../problems';
import type { EventService, SubmitResult } from './events';
import type { WebhookAudit, WebhookRefusal } from './webhook-audit';

/** Accepted deliveries are remembered this long (a source's window is at most an hour). */
export const DELIVERY_RETENTION_MS = 24 * 60 * 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/** A key no sender has: an unknown source's delivery is verified against it, in the same time. */
const NOBODY = [randomBytes(32)];

/** 401 for a delivery that is not authentic; the same text for an unknown source and a forgery. */
export class WebhookUnauthorizedProblem extends HttpProblem {
  constructor(detail: string) {
    super(
      401,
      'unauthorized',
      'Webhook signature required',
      detail,
      {},
      {
        'WWW-Authenticate': 'Standard-Webhooks realm="idflow"',
      },
    );
  }
}

const ANSWERS: Record<'unsigned' | 'malformed' | 'forged', string> = {
  unsigned:
    'sign the delivery with the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature',
  malformed:
    'webhook-id, webhook-timestamp or webhook-signature is not in the Standard Webhooks form (an id of printable ASCII, unix seconds, v1,<base64 HMAC-SHA256>)',
  forged: "the webhook signature does not verify with this source's secrets",
};

/** What a delivery is: the source that signed it and its webhook-id. */
export interface VerifiedDelivery {
  source: SourceIR;
  webhookId: string;
}

export interface WebhookServiceDeps {
  db: Database;
  sources: ActiveSources;
  events: EventService;
  secrets: WebhookSecrets;
  audit: WebhookAudit;
  /** Told when pruning old deliveries fails (it is retried later). */
  onPruneError?: (err: unknown) => void;
  now?: () => number;
}

export class WebhookService {
  private lastPrune = 0;
  private readonly now: () => number;

  constructor(private readonly deps: WebhookServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  private async db<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw new UnavailableProblem('PostgreSQL');
      throw err;
    }
  }

  /**
   * Checks a delivery's signature over its body as received: 401 (audited) for an unsigned,
   * malformed, forged or stale one and for a source that takes no signed deliveries; 503 when
   * none of the source's secret variables is set in the gateway.
   */
  async verify(name: string, headers: WebhookHeaders, body: Buffer): Promise<VerifiedDelivery> {
    const named = EventSource.safeParse(name).success ? name : undefined;
    const source = named ? await this.db(() => this.deps.sources.get(named)) : undefined;
    const nowMs = this.now();
    if (!source?.webhook) {
      // as long as a real check, and answered as one would be: a caller learns no source names
      const check = verifyWebhook({ headers, body, keys: NOBODY, nowMs, toleranceMs: 0 });
      const answer = check.ok || check.reason === 'stale' ? 'forged' : check.reason;
      throw this.refuse('unknown-source', named, check.id, answer);
    }
    const { keys, unusable } = this.deps.secrets.keysOf(source.webhook.secretEnvs);
    if (keys.length === 0) {
      const parsed = parseWebhookHeaders(headers);
      if (!parsed.ok) throw this.refuse(parsed.reason, source.name, parsed.id);
      this.deps.audit.refused('secret-unset', source.name, parsed.headers.id, {
        variables: unusable,
      });
      throw new HttpProblem(
        503,
        'webhook-secret-unset',
        'Service unavailable',
        "the gateway cannot verify this source's deliveries: its webhook secrets are not set; nothing was accepted",
        {},
        { 'Retry-After': '60' },
      );
    }
    const check = verifyWebhook({
      headers,
      body,
      keys,
      nowMs,
      toleranceMs: source.webhook.toleranceMs,
    });
    if (!check.ok) {
      if (check.reason === 'stale') {
        this.deps.audit.refused('stale', source.name, check.id);
        throw new WebhookUnauthorizedProblem(
          `the webhook timestamp is more than ${Math.round(source.webhook.toleranceMs / 1000)} s away from the gateway's clock; sign with the current time`,
        );
      }
      throw this.refuse(check.reason, source.name, check.id);
    }
    return { source, webhookId: check.id };
  }

  /** Audits a refusal and gives its 401 to throw; `answer` is what the caller is told. */
  private refuse(
    reason: WebhookRefusal,
    source: string | undefined,
    webhookId: string | undefined,
    answer: keyof typeof ANSWERS = reason as keyof typeof ANSWERS,
  ): WebhookUnauthorizedProblem {
    this.deps.audit.refused(reason, source, webhookId);
    return new WebhookUnauthorizedProblem(ANSWERS[answer]);
  }

  /**
   * Delivers a verified delivery's event through `EventService.submit`. A webhook-id accepted
   * before is a replay: 200 with the first event's ids and nothing submitted; the same id
   * carrying another event is 409. The delivery is recorded only once its event was accepted.
   */
  async deliver(delivery: VerifiedDelivery, event: IdentityEvent): Promise<SubmitResult> {
    const source = delivery.source.name;
    const { webhookId } = delivery;
    const seen = await this.db(() => findDelivery(this.deps.db, source, webhookId));
    if (seen) return this.replay(source, webhookId, seen.eventId, event);
    const result = await this.deps.events.submit(event);
    await this.db(() => recordDelivery(this.deps.db, { source, webhookId, eventId: event.id }));
    this.pruneNowAndThen();
    return result;
  }

  private async replay(
    source: string,
    webhookId: string,
    firstEventId: string | null,
    event: IdentityEvent,
  ): Promise<SubmitResult> {
    const conflict = (detail: string) =>
      new ConflictProblem(detail, { webhookId, eventId: firstEventId });
    if (firstEventId !== event.id)
      throw conflict(
        `webhook-id ${webhookId} of source ${source} delivered event ${firstEventId ?? '(none)'} before; send a new delivery with a new webhook-id`,
      );
    const stored = await this.db(() => findEvent(this.deps.db, source, event.id));
    if (stored && canonicalJson(stored.body) !== canonicalJson(event))
      throw conflict(
        `webhook-id ${webhookId} of source ${source} delivered event ${event.id} before with other content; send a new delivery with a new webhook-id and a new event id`,
      );
    this.deps.audit.replayed(source, webhookId);
    const runs = (stored?.runs as RunRef[] | null | undefined) ?? [];
    return {
      status: 200,
      body: {
        source,
        eventId: event.id,
        dispatchWorkflowId: dispatchWorkflowId(source, event.id),
        duplicate: true,
        runs,
      },
    };
  }

  /** Deletes deliveries older than the retention, at most every ten minutes, in the background. */
  private pruneNowAndThen(): void {
    const now = this.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    pruneDeliveries(this.deps.db, new Date(now - DELIVERY_RETENTION_MS)).catch((err: unknown) => {
      this.lastPrune = 0;
      this.deps.onPruneError?.(err);
    });
  }
}
