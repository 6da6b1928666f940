/**
 * The events Nysana pushes (issue 20) and the one CloudEvents 1.0 envelope they travel in. The relay
 * writes events; the subscriptions API validates `eventTypes` against EVENT_TYPES; the dispatcher sends
 * `toCloudEvent(row)` as the body. Types follow CloudEvents' reverse-DNS advice and never change meaning:
 * a new kind of event gets a new type.
 */
export const EVENT_TYPES = [
  'kz.nysana.measurement.created',
  'kz.nysana.measurement.updated',
  'kz.nysana.measurement.deleted',
  'kz.nysana.indicator.status_changed',
  'kz.nysana.year.approved',
  'kz.nysana.year.reopened',
  'kz.nysana.plan.structure_changed',
  'kz.nysana.report.signatory_changed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Sent on demand to one subscription (POST /webhooks/subscriptions/{id}/test); never fanned out. */
export const TEST_EVENT_TYPE = 'kz.nysana.webhook.test';

/** The columns of a webhook_events row that make the envelope. */
export interface StoredEvent {
  id: string;
  type: string;
  source: string;
  subject: string | null;
  time: Date;
  data: Record<string, unknown>;
}

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

export function toCloudEvent(event: StoredEvent): CloudEvent {
  return {
    specversion: '1.0',
    id: event.id,
    source: event.source,
    type: event.type,
    ...(event.subject === null ? {} : { subject: event.subject }),
    time: event.time.toISOString(),
    datacontenttype: 'application/json',
    data: event.data,
  };
}
