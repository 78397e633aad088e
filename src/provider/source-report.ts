/**
 * What a kcp provider says when its source object cannot do its job: the kubeconfig points at a
 * virtual workspace, the object is missing from the workspace the kubeconfig points at, or it
 * lists no endpoint URLs for a long time. Each is logged while it lasts, first at once (or after a
 * grace period) and then at doubling intervals up to a cap, so that it is seen in any log excerpt
 * without flooding the log or repeating on every watch event; the same sentence is the readiness
 * reason.
 */
import { backoffDelay } from '../informer/index.js';
import type { Logger } from '../log/index.js';

/** Where a kubeconfig's server URL points. */
export interface ServerTarget {
  /** The workspace of `/clusters/<path or name>` in the URL; `root` when the URL names none (kcp's default). */
  workspace: string;
  /** The virtual-workspace part of the path (`/services/apiexport/...`) when the URL points into one. */
  virtualWorkspace?: string;
}

/** Reads the workspace (or the virtual workspace) a server URL points at. */
export function serverTarget(server: string): ServerTarget {
  let pathname = '';
  try {
    pathname = new URL(server).pathname;
  } catch {
    // Not a URL: the transport has refused it already; nothing more to say here.
  }
  const segs = pathname.split('/').filter(Boolean);
  const services = segs.indexOf('services');
  // kcp serves every virtual workspace under /services/<name>/ on a shard or the front-proxy.
  if (services >= 0 && services < segs.length - 1) {
    const clusters = segs.indexOf('clusters', services);
    const vw = '/' + segs.slice(services, clusters < 0 ? undefined : clusters).join('/');
    return { workspace: clusters >= 0 && segs[clusters + 1] ? decode(segs[clusters + 1]!) : '', virtualWorkspace: vw };
  }
  const clusters = segs.indexOf('clusters');
  return { workspace: clusters >= 0 && segs[clusters + 1] ? decode(segs[clusters + 1]!) : 'root' };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** How often a lasting problem is logged again. */
export interface ReportBackoff {
  /** Interval after the first report; default 10 000 ms. */
  initialMs?: number;
  /** Largest interval (each doubles the one before); default 300 000 ms. */
  maxMs?: number;
}

/** One problem at a time, logged while it lasts: after `afterMs`, then at doubling intervals. */
export class RepeatedReport {
  private key: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private times = 0;

  constructor(private readonly backoff: ReportBackoff = {}) {}

  /** The problem being reported, if any. */
  get current(): string | undefined {
    return this.key;
  }

  /**
   * Reports problem `key` with `report` (told how many times it has been reported, this one
   * included) until `clear()` or another key; the same key again changes nothing.
   */
  set(key: string, afterMs: number, report: (times: number) => void): void {
    if (this.key === key) return;
    this.clear();
    this.key = key;
    const fire = (): void => {
      this.times++;
      report(this.times);
      const delay = backoffDelay(this.times - 1, { initialMs: this.backoff.initialMs ?? 10_000, maxMs: this.backoff.maxMs ?? 300_000, jitter: 0 });
      this.schedule(fire, delay);
    };
    if (afterMs > 0) this.schedule(fire, afterMs);
    else fire();
  }

  /** Ends the problem; returns how many times it was reported. */
  clear(): number {
    const times = this.times;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.key = undefined;
    this.times = 0;
    return times;
  }

  private schedule(fn: () => void, ms: number): void {
    this.timer = setTimeout(fn, ms);
    // A report never keeps the process alive on its own.
    this.timer.unref();
  }
}

/** What `SourceReport` needs to know about the provider. */
export interface SourceReportOptions {
  /** Kind of the source, e.g. `APIExportEndpointSlice`. */
  sourceKind: string;
  /** The source object's name. */
  sourceName: string;
  /** The likely reason why the source lists no URLs. */
  noEndpointsCause?: string;
  /** The kubeconfig's server URL. */
  server: string;
  /** How long a source may list no URLs before it is reported; default 60 000 ms. */
  noEndpointsAfterMs?: number;
  /** How often a lasting problem is logged again. */
  reportBackoff?: ReportBackoff;
}

/** The source object's problems, as log lines and readiness reasons. */
export class SourceReport {
  /** Where the kubeconfig points. */
  readonly target: ServerTarget;
  private readonly report: RepeatedReport;
  private readonly what: string;
  private readonly hint: string;

  constructor(
    private readonly opts: SourceReportOptions,
    private readonly log: Logger,
  ) {
    this.target = serverTarget(opts.server);
    this.report = new RepeatedReport(opts.reportBackoff);
    this.what = `${opts.sourceKind} ${JSON.stringify(opts.sourceName)}`;
    this.hint = `the kubeconfig must point at the provider's workspace, the one that holds the ${opts.sourceKind} (check the kubeconfig's server URL, context and the name)`;
  }

  /** Why nothing can be watched, when the kubeconfig points at a virtual workspace; else undefined. */
  misplaced(): string | undefined {
    const vw = this.target.virtualWorkspace;
    if (!vw) return undefined;
    return `the kubeconfig's server ${this.opts.server} points at a virtual workspace (${vw}), not a workspace: it must point at the provider's workspace (<kcp>/clusters/<path>), the one that holds the ${this.opts.sourceKind}`;
  }

  /** Why the source is not there (for readiness). */
  missing(): string {
    return `${this.what} not found in workspace ${this.target.workspace}: ${this.hint}`;
  }

  /** Why the source has not been listed yet (for readiness), with the last error if any. */
  notSynced(err: Error | undefined): string {
    if (!err) return `${this.what} not synced yet`;
    return `cannot list ${this.what} in workspace ${this.target.workspace} (retrying): ${err.message}`;
  }

  /** Starts reporting a kubeconfig that points at a virtual workspace. */
  reportMisplaced(): void {
    const reason = this.misplaced();
    if (!reason) return;
    this.report.set('misplaced', 0, (times) =>
      this.log.warn('the kubeconfig points at a virtual workspace, not at the provider\'s workspace', { server: this.opts.server, virtualWorkspace: this.target.virtualWorkspace, reason, reports: times }),
    );
  }

  /** The source after a complete list: whether it exists, and how many URLs it lists. */
  observe(exists: boolean, urls: number): void {
    if (!exists) {
      this.report.set('missing', 0, (times) =>
        this.log.warn(`${this.what} not found in workspace ${this.target.workspace}`, {
          kind: this.opts.sourceKind,
          name: this.opts.sourceName,
          workspace: this.target.workspace,
          server: this.opts.server,
          hint: this.hint,
          reports: times,
        }),
      );
      return;
    }
    if (urls === 0) {
      const after = this.opts.noEndpointsAfterMs ?? 60_000;
      const wasMissing = this.report.current === 'missing' ? this.report.clear() : 0;
      if (wasMissing) this.found();
      const since = Date.now();
      this.report.set('no-endpoints', after, (times) =>
        this.log.info(`${this.what} lists no endpoint URLs`, {
          for: `${Math.round((Date.now() - since) / 1000)}s`,
          likelyCause: this.opts.noEndpointsCause ?? `the ${this.opts.sourceKind} lists no URLs yet`,
          reports: times,
        }),
      );
      return;
    }
    const key = this.report.current;
    if (this.report.clear() > 0 && key === 'missing') this.found();
  }

  /** Stops reporting (the provider stopped). */
  stop(): void {
    this.report.clear();
  }

  private found(): void {
    this.log.info(`${this.what} found in workspace ${this.target.workspace}`);
  }
}
