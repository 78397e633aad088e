/**
 * controller-runtime's webhook and certwatcher metrics (webhook/internal/metrics,
 * certwatcher/metrics): names, help texts, labels and buckets as in CR.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The webhook server's hooks. */
export interface WebhookMetrics {
  /** A request to `webhook` (its path) was answered with HTTP `code`. */
  requested(webhook: string, code: number, seconds: number): void;
  /** Requests to `webhook` in flight changed by `delta`. */
  inFlight(webhook: string, delta: number): void;
  /** A handler threw something other than a denial. */
  panicked(): void;
  /** A certificate read finished (`ok` false: the files were unreadable or did not match). */
  certificateRead(ok: boolean): void;
}

/** Prometheus' default buckets, which CR's latency histogram uses. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Registers the webhook families on `registry` and returns their hooks. */
export function registerWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry];
  const requests = new Counter({ name: 'controller_runtime_webhook_requests_total', help: 'Total number of admission requests by HTTP status code.', labelNames: ['webhook', 'code'], registers });
  const latency = new Histogram({
    name: 'controller_runtime_webhook_latency_seconds',
    help: 'Histogram of the latency of processing admission requests',
    labelNames: ['webhook'],
    buckets: DEFAULT_BUCKETS,
    registers,
  });
  const inFlight = new Gauge({ name: 'controller_runtime_webhook_requests_in_flight', help: 'Current number of admission requests being served.', labelNames: ['webhook'], registers });
  const panics = new Counter({ name: 'controller_runtime_webhook_panics_total', help: 'Total number of webhook panics', registers });
  const reads = new Counter({ name: 'certwatcher_read_certificate_total', help: 'Total number of certificate reads', registers });
  const readErrors = new Counter({ name: 'certwatcher_read_certificate_errors_total', help: 'Total number of certificate read errors', registers });
  panics.inc(0);
  reads.inc(0);
  readErrors.inc(0);
  const seen = new Set<string>();
  const init = (webhook: string): void => {
    if (seen.has(webhook)) return;
    seen.add(webhook);
    // CR creates the 200 and 500 series of each webhook up front, so rates exist before any error.
    requests.inc({ webhook, code: '200' }, 0);
    requests.inc({ webhook, code: '500' }, 0);
    inFlight.set({ webhook }, 0);
  };
  return {
    requested: (webhook, code, seconds) => {
      init(webhook);
      requests.inc({ webhook, code: String(code) });
      latency.observe({ webhook }, seconds);
    },
    inFlight: (webhook, delta) => {
      init(webhook);
      inFlight.inc({ webhook }, delta);
    },
    panicked: () => panics.inc(),
    certificateRead: (ok) => {
      reads.inc();
      if (!ok) readErrors.inc();
    },
  };
}
