/**
 * What a receiver gets: each event type's CloudEvents 1.0 envelope and data, as zod schemas. They are the
 * one description of the events: the relay builds each event's data as the schema's type
 * (relay/events.ts), the OpenAPI document publishes them under `webhooks` (src/openapi/webhooks.ts), and
 * the relay's tests parse every event they see with them.
 */
import { z } from 'zod';
import { AchievementStatus } from '../status/schemas.js';
import type { EventType } from './catalog.js';
import { TEST_EVENT_TYPE } from './catalog.js';

const Year = z.number().int().meta({ description: 'The plan year the event is about', example: 2026 });

/** An audit document of the row (the same as GET /audit shows): null before a creation and after a deletion. */
const Document = z
  .record(z.string(), z.unknown())
  .nullable()
  .meta({ description: 'The row as the audit trail recorded it; null before a creation and after a deletion' });

const PlanRef = z
  .object({ id: z.uuid(), code: z.string().nullable(), organizationId: z.uuid().nullable() })
  .nullable()
  .meta({
    description: 'The plan and its organization; null when the row and its plan were gone before the relay read them',
  });

const IndicatorRef = z.object({ id: z.uuid(), code: z.string().nullable() });

const Links = z.object({
  self: z.string().meta({ description: 'The API path of the resource (also the CloudEvents subject)' }),
});

const Verdict = z.object({
  status: z.enum(AchievementStatus.options),
  percent: z.number().nullable().meta({ description: 'Achievement percent, as the status read model answers it' }),
  band: z
    .string()
    .nullable()
    .meta({ description: "The band code under the plan's evaluation method, if it has bands" }),
});

const WriteAction = z.enum(['create', 'update', 'delete']);

const MeasurementData = z.object({
  measurement: z.object({ id: z.uuid(), indicatorId: z.uuid(), year: Year }),
  indicator: IndicatorRef,
  plan: PlanRef,
  year: Year,
  before: Document,
  after: Document,
  links: Links,
});

const StatusChangedData = z.object({
  indicator: IndicatorRef,
  plan: PlanRef,
  year: Year,
  before: Verdict,
  after: Verdict,
  links: Links,
});

const ApprovalData = z.object({
  plan: PlanRef,
  year: Year,
  approval: z
    .looseObject({ id: z.string() })
    .meta({ description: 'The approval (order document and date) as recorded' }),
  links: Links,
});

/** A row created, changed or deleted: the action and the row's audit documents on either side. */
const change = { action: WriteAction, before: Document, after: Document, links: Links };

const StructureData = z.object({
  plan: PlanRef,
  entity: z.object({ type: z.enum(['direction', 'goal', 'indicator']), id: z.uuid(), code: z.string().nullable() }),
  ...change,
});

const SignatoryData = z.object({ plan: PlanRef, year: Year, ...change });

const TestData = z.object({ subscriptionId: z.uuid(), message: z.string() });

/** Each event type's data. */
export const EVENT_DATA = {
  'kz.nysana.measurement.created': MeasurementData,
  'kz.nysana.measurement.updated': MeasurementData,
  'kz.nysana.measurement.deleted': MeasurementData,
  'kz.nysana.indicator.status_changed': StatusChangedData,
  'kz.nysana.year.approved': ApprovalData,
  'kz.nysana.year.reopened': ApprovalData.extend({
    reason: z.string().nullable().meta({ description: 'Why the year was reopened' }),
  }),
  'kz.nysana.plan.structure_changed': StructureData,
  'kz.nysana.report.signatory_changed': SignatoryData,
} as const satisfies Record<EventType, z.ZodType>;

/** The data of an event of `type`, without its `links` (the relay adds them). */
export type EventData<T extends EventType> = T extends EventType
  ? Omit<z.input<(typeof EVENT_DATA)[T]>, 'links'>
  : never;

const SUMMARIES: Record<EventType | typeof TEST_EVENT_TYPE, [id: string, summary: string]> = {
  'kz.nysana.measurement.created': ['MeasurementCreated', 'A measurement (plan and fact of a year) was created'],
  'kz.nysana.measurement.updated': ['MeasurementUpdated', 'A measurement was changed'],
  'kz.nysana.measurement.deleted': ['MeasurementDeleted', 'A measurement was deleted'],
  'kz.nysana.indicator.status_changed': [
    'IndicatorStatusChanged',
    "An indicator's achievement status, percent or band for a year changed",
  ],
  'kz.nysana.year.approved': ['YearApproved', 'A plan year was approved (its values are locked)'],
  'kz.nysana.year.reopened': ['YearReopened', 'An approved plan year was reopened'],
  'kz.nysana.plan.structure_changed': [
    'PlanStructureChanged',
    'A direction, goal or indicator of a plan was created, changed or deleted',
  ],
  'kz.nysana.report.signatory_changed': [
    'ReportSignatoryChanged',
    "A year's report signatory was set, replaced or removed",
  ],
  [TEST_EVENT_TYPE]: ['Test', 'A test event sent on demand to one subscription'],
};

function envelope(type: string, data: z.ZodType) {
  const [id, summary] = SUMMARIES[type as EventType];
  return z
    .object({
      specversion: z.literal('1.0'),
      id: z.uuid().meta({ description: 'The event id; also the webhook-id header: drop an id already seen' }),
      source: z.string().meta({ description: 'The plan the event belongs to (its API path), or the API root' }),
      type: z.literal(type),
      subject: z.string().optional().meta({ description: 'The API path of the resource' }),
      time: z.iso.datetime({ offset: true }).meta({ description: 'When the change was recorded' }),
      datacontenttype: z.literal('application/json'),
      data,
    })
    .meta({ id: `Webhook${id}Event`, title: id, description: summary });
}

/** Every event a subscription can receive, keyed by type: the CloudEvents envelope with its data. */
export const CLOUD_EVENTS: Record<string, { summary: string; id: string; schema: z.ZodType }> = Object.fromEntries(
  [...Object.entries(EVENT_DATA), [TEST_EVENT_TYPE, TestData] as const].map(([type, data]) => {
    const schema = envelope(type, data);
    const [id, summary] = SUMMARIES[type as EventType];
    return [type, { summary, id: `Webhook${id}Event`, schema }];
  }),
);
