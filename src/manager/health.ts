/**
 * Liveness and readiness checks with controller-runtime's healthz semantics (pkg/healthz): an
 * aggregate endpoint that is terse on success and verbose on failure, `?verbose`, `?exclude=`,
 * and one sub-path per check. Checks run concurrently, each under a timeout, so one hung check
 * fails the probe instead of hanging it.
 */
import type * as http from 'node:http';
import type { Logger } from '../log/index.js';

/** A named check: returning (or resolving) passes, throwing (or rejecting) fails. The signal aborts at the timeout. */
export type HealthCheck = (signal: AbortSignal) => void | Promise<void>;

/** Options of `HealthChecks`. */
export interface HealthChecksOptions {
  /** How long one check may take before it counts as failed; default 5000 ms. */
  timeoutMs?: number;
  /** Where failing checks are logged (with their reasons, which the aggregate withholds). */
  log?: Logger;
  /** Path of the liveness endpoint; default `/healthz`. */
  livenessEndpoint?: string;
  /** Path of the readiness endpoint; default `/readyz`. */
  readinessEndpoint?: string;
}

/** The outcome of one check. */
export interface HealthCheckStatus {
  /** The check's name. */
  name: string;
  /** Passed, or excluded. */
  healthy: boolean;
  /** Skipped through `?exclude=`. */
  excluded: boolean;
  /** Why it failed. */
  reason?: string;
}

/** Which endpoint: liveness or readiness. */
export type HealthEndpoint = 'healthz' | 'readyz';

type Kind = HealthEndpoint;
type CheckStatus = HealthCheckStatus;

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } as const;

/** controller-runtime's `healthz.Ping`: always passes. */
export const ping: HealthCheck = () => undefined;

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Liveness (`/healthz`) and readiness (`/readyz`) checks and the handler that serves them. */
export class HealthChecks {
  private readonly checks: Record<Kind, Map<string, HealthCheck>> = { healthz: new Map([['ping', ping]]), readyz: new Map() };
  private readonly timeoutMs: number;
  private readonly log: Logger | undefined;
  private readonly endpoints: Record<Kind, string>;

  constructor(opts: HealthChecksOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.log = opts.log;
    this.endpoints = { healthz: trimSlash(opts.livenessEndpoint ?? '/healthz'), readyz: trimSlash(opts.readinessEndpoint ?? '/readyz') };
    if (this.endpoints.healthz === this.endpoints.readyz) throw new Error(`liveness and readiness endpoints must differ, both are ${this.endpoints.healthz}`);
  }

  /** Adds a liveness check (`ping` is built in). Names are path segments: non-empty, no `/`, unique. */
  addHealthzCheck(name: string, check: HealthCheck): void {
    this.add('healthz', name, check);
  }

  /** Adds a readiness check. Names are path segments: non-empty, no `/`, unique. */
  addReadyzCheck(name: string, check: HealthCheck): void {
    this.add('readyz', name, check);
  }

  /** Serves both endpoints and their `/<endpoint>/<name>` sub-paths; every other path is 404. */
  handler(): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
    return async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = cleanPath(url.pathname);
      for (const kind of ['healthz', 'readyz'] as const) {
        const root = this.endpoints[kind];
        if (path === root) return this.serveAggregated(kind, url.searchParams, res);
        if (path.startsWith(root + '/')) return this.serveOne(kind, decodeSegment(path.slice(root.length + 1)), res);
      }
      notFound(res);
    };
  }

  /** Runs every check of `kind` (the same statuses the aggregate endpoint reports), sorted by name. */
  async run(
    kind: Kind,
    exclude: ReadonlySet<string> = new Set(),
  ): Promise<{
    /** True when every check that was run passed. */
    healthy: boolean;
    /** Each check's outcome, sorted by name. */
    statuses: CheckStatus[];
  }> {
    const checks = this.effective(kind);
    const statuses = await Promise.all(
      [...checks].map(async ([name, check]): Promise<CheckStatus> => {
        if (exclude.has(name)) return { name, healthy: true, excluded: true };
        const reason = await this.runOne(check);
        return reason === undefined ? { name, healthy: true, excluded: false } : { name, healthy: false, excluded: false, reason };
      }),
    );
    statuses.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { healthy: statuses.every((s) => s.healthy), statuses };
  }

  private add(kind: Kind, name: string, check: HealthCheck): void {
    if (name === '' || name.includes('/')) throw new Error(`invalid ${kind} check name ${JSON.stringify(name)}: it must be a non-empty path segment`);
    const checks = this.checks[kind];
    if (checks.has(name)) throw new Error(`${kind} check ${JSON.stringify(name)} already exists`);
    checks.set(name, check);
  }

  // As in CR, an endpoint without checks answers with a default `ping`.
  private effective(kind: Kind): Map<string, HealthCheck> {
    const checks = this.checks[kind];
    return checks.size > 0 ? checks : new Map([['ping', ping]]);
  }

  /** Undefined when the check passed, else why it failed. */
  private async runOne(check: HealthCheck): Promise<string | undefined> {
    const ctrl = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        ctrl.abort(new Error(`timed out after ${this.timeoutMs} ms`));
        resolve(`timed out after ${this.timeoutMs} ms`);
      }, this.timeoutMs);
    });
    const result = (async (): Promise<string | undefined> => {
      try {
        await check(ctrl.signal);
        return undefined;
      } catch (e) {
        return reasonOf(e);
      }
    })();
    try {
      return await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async serveAggregated(kind: Kind, query: URLSearchParams, res: http.ServerResponse): Promise<void> {
    const known = this.effective(kind);
    const excluded = new Set(query.getAll('exclude'));
    const { healthy, statuses } = await this.run(kind, excluded);
    const unknownExcludes = [...excluded].filter((n) => !known.has(n)).sort();
    for (const s of statuses) {
      if (!s.healthy) this.log?.info(`${kind} check failed`, { checker: s.name, reason: s.reason });
    }
    res.writeHead(healthy ? 200 : 500, TEXT);
    if (healthy && !query.has('verbose')) {
      res.end('ok');
      return;
    }
    // Always verbose on failure; the reasons are withheld because the endpoint is unauthenticated.
    let body = '';
    for (const s of statuses) {
      if (s.excluded) body += `[+]${s.name} excluded: ok\n`;
      else if (s.healthy) body += `[+]${s.name} ok\n`;
      else body += `[-]${s.name} failed: reason withheld\n`;
    }
    if (unknownExcludes.length > 0) {
      body += `warn: some health checks cannot be excluded: no matches for ${unknownExcludes.map((n) => JSON.stringify(n)).join(',')}\n`;
    }
    body += healthy ? `${kind} check passed\n` : `${kind} check failed\n`;
    res.end(body);
  }

  private async serveOne(kind: Kind, name: string | undefined, res: http.ServerResponse): Promise<void> {
    const check = name === undefined ? undefined : this.effective(kind).get(name);
    if (!check) return notFound(res);
    const reason = await this.runOne(check);
    if (reason === undefined) {
      res.writeHead(200, TEXT);
      res.end('ok');
      return;
    }
    this.log?.info(`${kind} check failed`, { checker: name, reason });
    res.writeHead(500, TEXT);
    res.end(`internal server error: ${reason}\n`);
  }
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, TEXT);
  res.end('404 page not found\n');
}

function trimSlash(p: string): string {
  const withLead = p.startsWith('/') ? p : '/' + p;
  return withLead.length > 1 ? withLead.replace(/\/+$/, '') : withLead;
}

// Go's path.Clean as CR applies it: duplicate and trailing slashes go, `.` and `..` are resolved.
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
