/**
 * The audit trail of signed webhook deliveries that were refused or replayed, aggregated: one
 * row per (action, reason, source) per interval with a count and up to ten sample webhook-ids,
 * so a flood of forged or replayed deliveries costs a counter each, not a row each. Rows name
 * the source, the reason and well-formed webhook-ids — never a signature or a secret.
 */
import { AuditTally, type AuditTallyOptions } from '../../audit/tally';

/** Why a delivery was refused (`secret-unset`: the gateway could not verify it; answered 503). */
export type WebhookRefusal =
  'unsigned' | 'malformed' | 'forged' | 'stale' | 'unknown-source' | 'secret-unset';

export class WebhookAudit {
  private readonly tally: AuditTally;

  constructor(options: Omit<AuditTallyOptions, 'samplesAs'>) {
    this.tally = new AuditTally({ ...options, samplesAs: 'webhookIds' });
  }

  /**
   * Counts a refused delivery. `source` is the path's source when it has the grammar of one
   * (an unknown source's name is the caller's own text, bounded by the tally's key limit).
   */
  refused(
    reason: WebhookRefusal,
    source: string | undefined,
    webhookId?: string,
    extra: Record<string, unknown> = {},
  ): void {
    this.tally.record(
      JSON.stringify(['refused', reason, source ?? '']),
      {
        actor: 'anonymous',
        action: 'webhook.refused',
        target: `source:${source ?? '*'}`,
        outcome: 'refused',
        detail: { reason, ...(source ? { source } : {}), ...extra },
      },
      webhookId,
    );
  }

  /** Counts a delivery sent again with a webhook-id already accepted: answered, nothing new. */
  replayed(source: string, webhookId: string): void {
    this.tally.record(
      JSON.stringify(['replayed', source]),
      {
        actor: `webhook:${source}`,
        action: 'webhook.replayed',
        target: `source:${source}`,
        outcome: 'unchanged',
        detail: { source },
      },
      webhookId,
    );
  }

  /** Writes what has been gathered (tests; and before the database closes). */
  flush(): Promise<number> {
    return this.tally.flush();
  }

  close(): Promise<void> {
    return this.tally.close();
  }
}
