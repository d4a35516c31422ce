// The message of each value of the API's enums. Typed by the generated
// schema: a value the API adds (a widget, a status) is a compile error here
// until it has a label in every language.
import type { CallView, Schemas } from './api/client';
import type { MessageKey } from './i18n/en';

export const statusLabel: Record<CallView['status'], MessageKey> = {
  queued: 'status.queued',
  ringing: 'status.ringing',
  'in-progress': 'status.in-progress',
  completed: 'status.completed',
  busy: 'status.busy',
  failed: 'status.failed',
  'no-answer': 'status.no-answer',
  canceled: 'status.canceled',
};

export const sentimentLabel: Record<NonNullable<CallView['sentiment']>, MessageKey> = {
  positive: 'sentiment.positive',
  neutral: 'sentiment.neutral',
  negative: 'sentiment.negative',
};

export const widgetLabel: Record<Schemas['Widget']['id'], MessageKey> = {
  call_stats: 'widget.call_stats',
  trend: 'widget.trend',
  recent_calls: 'widget.recent_calls',
  subscription: 'widget.subscription',
  billing_summary: 'widget.billing_summary',
  quick_stats: 'widget.quick_stats',
  agents: 'widget.agents',
  notifications: 'widget.notifications',
};

export const subscriptionStatusLabel: Record<Schemas['SubscriptionSummary']['status'], MessageKey> = {
  trialing: 'subStatus.trialing',
  active: 'subStatus.active',
  past_due: 'subStatus.past_due',
  canceled: 'subStatus.canceled',
};

export const invoiceStatusLabel: Record<NonNullable<Schemas['BillingSummary']['last_invoice_status']>, MessageKey> = {
  open: 'invoiceStatus.open',
  paid: 'invoiceStatus.paid',
  void: 'invoiceStatus.void',
};
