/**
 * `POST /slack/interactions`: Approve / Reject button clicks from Slack. Authenticated by
 * Slack's request signature (not a bearer token); a forged or replayed request is refused (401)
 * and audited. The Slack user is mapped to a person, then the decision goes through exactly
 * the same rules as the API.
 */
import express, { Router } from 'express';
import * as z from 'zod';
import type { Database } from '../../db/client';
import { personOfSlackUser } from '../../db/repos/approval-messages';
import { appendAudit } from '../../db/repos/audit';
import { personByEmail } from '../../db/repos/persons';
import { taskIdOf } from '../../model/approval';
import { APPROVE_ACTION, REJECT_ACTION, type SlackNotifier } from '../../notify/slack';
import { jsonValueProblems } from '../json-limits';
import { declareRoute, mount } from '../openapi';
import { HttpProblem, UnavailableProblem } from '../problems';
import type { ApprovalService } from '../services/approvals';
import { verifySlackRequest } from '../slack-signature';

const Interaction = z.object({
  type: z.literal('block_actions'),
  /** Slack user ids: `U0123ABCD` (or `W…` on Enterprise Grid). */
  user: z.object({ id: z.string().regex(/^[A-Z0-9]{1,64}$/) }),
  actions: z
    .array(z.object({ action_id: z.enum([APPROVE_ACTION, REJECT_ACTION]), value: z.string() }))
    .min(1),
});

const ButtonValue = z.object({ workflowId: z.string().min(1), step: z.string().min(1) });

const interactions = declareRoute({
  method: 'post',
  path: '/slack/interactions',
  tag: 'slack',
  summary: 'Approve / Reject button clicks from Slack',
  description:
    "Slack's interactivity request URL. Authenticated by Slack's request signature, not a bearer token: a forged or replayed request is 401 and audited. The Slack user is mapped to a person, then the decision goes through the same rules as the API. 404 when Slack is not configured (SLACK_SIGNING_SECRET).",
  auth: 'slack-signature',
  headers: z.object({
    'x-slack-request-timestamp': z
      .string()
      .regex(/^\d+$/)
      .meta({ description: 'Unix seconds; refused more than 5 minutes off' }),
    'x-slack-signature': z
      .string()
      .meta({ description: '`v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<body>`' }),
  }),
  body: {
    name: 'interaction',
    mediaType: 'application/x-www-form-urlencoded',
    schema: z.object({
      payload: Interaction.meta({
        description: 'the block_actions payload, JSON; the button value names the run and step',
      }),
    }),
    encoding: { payload: { contentType: 'application/json' } },
  },
  responses: {
    200: {
      description: 'The decision was recorded',
      schema: z.object({ ok: z.literal(true), status: z.string() }),
    },
  },
  problems: [403, 404, 409],
});

/** `value` when every string in it can be stored (no NUL, no unpaired surrogate); else throws. */
function storable(value: unknown): unknown {
  if (jsonValueProblems(value, 1).length > 0) throw new Error('not storable text');
  return value;
}

/** The user's email per Slack; undefined for a user Slack does not know; 503 when Slack cannot answer. */
async function emailOf(slack: SlackNotifier, user: string): Promise<string | undefined> {
  try {
    return await slack.emailOfUser(user);
  } catch (err) {
    // Slack answered, with an error of its own (user_not_found, …): no such user.
    if ((err as { code?: unknown }).code === 'slack_webapi_platform_error') return undefined;
    throw new UnavailableProblem('Slack');
  }
}

export interface SlackRouteDeps {
  db: Database;
  approvals: ApprovalService;
  signingSecret?: string;
  slack?: SlackNotifier;
}

export function slackRoutes({ db, approvals, signingSecret, slack }: SlackRouteDeps): Router {
  const router = Router();
  mount(
    router,
    interactions,
    async (req, res) => {
      if (!signingSecret)
        throw new HttpProblem(
          404,
          'not-found',
          'Not found',
          'Slack is not configured (SLACK_SIGNING_SECRET)',
        );
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const check = verifySlackRequest(
        signingSecret,
        {
          timestamp: req.header('x-slack-request-timestamp'),
          signature: req.header('x-slack-signature'),
        },
        raw,
      );
      if (!check.ok) {
        await appendAudit(db, {
          actor: 'slack',
          action: 'slack.request-refused',
          target: 'slack:interactions',
          outcome: 'refused',
          detail: { reason: check.reason, ip: req.ip ?? null },
        });
        throw new HttpProblem(401, 'unauthorized', 'Not a request from Slack', check.reason);
      }
      const form = new URLSearchParams(raw.toString('utf8'));
      let payload: z.infer<typeof Interaction>;
      let target: z.infer<typeof ButtonValue>;
      try {
        payload = Interaction.parse(storable(JSON.parse(form.get('payload') ?? '')));
        target = ButtonValue.parse(storable(JSON.parse(payload.actions[0]?.value ?? '')));
      } catch {
        throw new HttpProblem(
          400,
          'invalid-request',
          'Not an idflow interaction',
          'expected an Approve or Reject button of an idflow message',
        );
      }
      const slackUser = payload.user.id;
      let personId = await personOfSlackUser(db, slackUser);
      if (!personId && slack) {
        const email = await emailOf(slack, slackUser);
        personId = email ? (await personByEmail(db, email))?.id : undefined;
      }
      const taskId = taskIdOf(target.workflowId, target.step);
      if (!personId) {
        await appendAudit(db, {
          actor: `slack:${slackUser}`,
          action: 'approval.decision-refused',
          target: `approval:${taskId}`,
          outcome: 'refused',
          detail: { channel: 'slack', reason: 'the Slack user is no known person' },
          runId: target.workflowId,
        });
        throw new HttpProblem(
          403,
          'forbidden',
          'Not allowed',
          'your Slack account is not linked to a person idflow knows',
        );
      }
      const decision = payload.actions[0]?.action_id === APPROVE_ACTION ? 'approve' : 'reject';
      const view = await approvals.decide(
        taskId,
        { personId, actor: `slack:${slackUser}`, channel: 'slack' },
        { decision },
      );
      res.json({ ok: true, status: view.status });
    },
    // Content-Encoding other than identity was refused before (request-guard): the signature
    // covers the bytes as sent, and nothing is decompressed.
    [express.raw({ type: () => true, limit: '64kb', inflate: false })],
  );
  return router;
}
