/**
 * The controller builder: `manager.controller(name).for(T).owns(U).watches(V, map).reconcile(fn)`.
 * Per-input options stay with their input (multicluster-runtime #93/#94: options that clobbered
 * each other); `reconcile` completes the controller and hands it to the manager.
 */
import type { KubernetesObject, ObjectType } from '../client/index.js';
import type { ControllerMetrics } from '../metrics/types.js';
import { Controller, type ControllerOptions } from './controller.js';
import type { Predicate } from './predicates.js';
import type { Reconciler } from './types.js';
import type { MapFunc, OwnsOptions, WatchOptions, WatchSpec } from './watch.js';

/** Controller names as metric labels and log fields accept them (controller-runtime's rule, loosened to kebab/snake case). */
const NAME = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/;

/** What a builder needs from its manager. */
export interface BuilderHost {
  /** Manager-level controller defaults (applied under the controller's own options). */
  defaults(): ControllerOptions;
  /** The controller's metrics. */
  metrics(name: string): ControllerMetrics | undefined;
  /** Registers (and, when the manager runs, starts and engages) a completed controller. */
  add(controller: Controller): void;
}

/** Builds one controller. */
export class Builder {
  private readonly specs: WatchSpec[] = [];
  private readonly global: Predicate<KubernetesObject>[] = [];
  private opts: ControllerOptions = {};
  private done = false;

  constructor(
    /** The controller's unique name. */
    readonly name: string,
    private readonly host: BuilderHost,
  ) {
    if (!NAME.test(name)) throw new Error(`invalid controller name ${JSON.stringify(name)}: lower-case letters, digits, '-', '_' and '.', at most 63 characters`);
  }

  /** The primary type: its events enqueue the object itself. Once per controller. */
  for<T extends KubernetesObject>(type: ObjectType<T>, opts: WatchOptions<T> = {}): this {
    if (this.specs.some((s) => s.role === 'for')) throw new Error(`controller ${this.name}: for() was already called`);
    this.specs.push({ role: 'for', type, predicates: (opts.predicates ?? []) as Predicate<KubernetesObject>[] });
    return this;
  }

  /** An owned type: its events enqueue the controlling owner of the primary type, in the same cluster. */
  owns<T extends KubernetesObject>(type: ObjectType<T>, opts: OwnsOptions<T> = {}): this {
    this.specs.push({ role: 'owns', type, predicates: (opts.predicates ?? []) as Predicate<KubernetesObject>[], matchEveryOwner: opts.matchEveryOwner });
    return this;
  }

  /** Any type: `map` turns its objects into keys to reconcile, in the object's own cluster. */
  watches<T extends KubernetesObject>(type: ObjectType<T>, map: MapFunc<T>, opts: WatchOptions<T> = {}): this {
    this.specs.push({ role: 'watches', type, map: map as MapFunc, predicates: (opts.predicates ?? []) as Predicate<KubernetesObject>[] });
    return this;
  }

  /** Predicates applied to every input. */
  withEventFilter(...predicates: Predicate<KubernetesObject>[]): this {
    this.global.push(...predicates);
    return this;
  }

  /** Controller options (over the manager's defaults). */
  withOptions(opts: ControllerOptions): this {
    this.opts = { ...this.opts, ...opts };
    return this;
  }

  /** Completes the controller with its reconciler and registers it with the manager. */
  reconcile(reconciler: Reconciler): Controller {
    if (this.done) throw new Error(`controller ${this.name}: reconcile() was already called`);
    if (this.specs.length === 0) throw new Error(`controller ${this.name}: call for(), owns() or watches() before reconcile()`);
    if (this.specs.some((s) => s.role === 'owns') && !this.specs.some((s) => s.role === 'for')) {
      throw new Error(`controller ${this.name}: owns() needs for() (the owner type)`);
    }
    this.done = true;
    const defaults = this.host.defaults();
    const options: ControllerOptions = { ...defaults };
    for (const [k, v] of Object.entries(this.opts)) if (v !== undefined) (options as Record<string, unknown>)[k] = v;
    const c = new Controller(this.name, this.specs, this.global, reconciler, options, this.host.metrics(this.name));
    this.host.add(c);
    return c;
  }
}
