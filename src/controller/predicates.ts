/**
 * Event filters, as controller-runtime's `predicate` package: plain functions over the events a
 * controller sees. The `*Changed` predicates let create and delete through and judge updates only,
 * so a controller filtered on them still sees every object once and every deletion.
 */
import type { KubernetesObject } from '../client/index.js';
import type { Cached, LabelSelectorInput } from '../informer/index.js';
import { matchesLabels, parseLabelSelector } from '../informer/index.js';

/** One change a controller is told about; `initial` marks objects of the first list (CR's `IsInInitialList`). */
export type ObjectEvent<T extends KubernetesObject = KubernetesObject> =
  | {
      /** An object appeared (in the first list or later). */
      type: 'create';
      /** The new object. */
      object: Cached<T>;
      /** True for objects of the informer's first list, false for later additions. */
      initial: boolean;
    }
  | {
      /** An object changed. */
      type: 'update';
      /** The object before the change. */
      old: Cached<T>;
      /** The object after the change. */
      object: Cached<T>;
    }
  | {
      /** An object went. */
      type: 'delete';
      /** The last state the cache saw. */
      object: Cached<T>;
    };

/** Decides whether an event reaches the controller's queue. */
export type Predicate<T extends KubernetesObject = KubernetesObject> = (ev: ObjectEvent<T>) => boolean;

/** Per-kind filters for `predicate()`; a missing one lets its events through. */
export interface PredicateFuncs<T extends KubernetesObject = KubernetesObject> {
  /** Filters create events. */
  create?: (ev: Extract<ObjectEvent<T>, { type: 'create' }>) => boolean;
  /** Filters update events. */
  update?: (ev: Extract<ObjectEvent<T>, { type: 'update' }>) => boolean;
  /** Filters delete events. */
  delete?: (ev: Extract<ObjectEvent<T>, { type: 'delete' }>) => boolean;
}

/** A predicate built from per-kind functions (CR's `predicate.Funcs`); missing ones pass. */
export function predicate<T extends KubernetesObject = KubernetesObject>(fns: PredicateFuncs<T>): Predicate<T> {
  return (ev) => {
    switch (ev.type) {
      case 'create':
        return fns.create ? fns.create(ev) : true;
      case 'update':
        return fns.update ? fns.update(ev) : true;
      case 'delete':
        return fns.delete ? fns.delete(ev) : true;
    }
  };
}

/** Passes every create and delete, and an update only when `hash` differs between old and new. */
export function changed<T extends KubernetesObject = KubernetesObject>(hash: (obj: Cached<T>) => string): Predicate<T> {
  return predicate<T>({ update: (ev) => hash(ev.old) !== hash(ev.object) });
}

/**
 * Passes updates that change `metadata.generation`, i.e. the spec (CR's `GenerationChangedPredicate`).
 * Status-only and metadata-only updates are filtered; resources without a generation never pass an update.
 */
export function generationChanged<T extends KubernetesObject = KubernetesObject>(): Predicate<T> {
  return predicate<T>({ update: (ev) => ev.old.metadata?.generation !== ev.object.metadata?.generation });
}

/** Passes updates that change `metadata.resourceVersion` (filters resync-style repeats of one state). */
export function resourceVersionChanged<T extends KubernetesObject = KubernetesObject>(): Predicate<T> {
  return predicate<T>({ update: (ev) => ev.old.metadata?.resourceVersion !== ev.object.metadata?.resourceVersion });
}

// Missing and empty maps are the same set of labels (CR's DeepEqual would tell nil from {} apart).
function sameMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  const ak = a ? Object.keys(a) : [];
  const bk = b ? Object.keys(b) : [];
  if (ak.length !== bk.length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || a![k] !== b![k]) return false;
  }
  return true;
}

/** Passes updates that change the labels (CR's `LabelChangedPredicate`). */
export function labelsChanged<T extends KubernetesObject = KubernetesObject>(): Predicate<T> {
  return predicate<T>({ update: (ev) => !sameMap(ev.old.metadata?.labels, ev.object.metadata?.labels) });
}

/** Passes updates that change the annotations (CR's `AnnotationChangedPredicate`). */
export function annotationsChanged<T extends KubernetesObject = KubernetesObject>(): Predicate<T> {
  return predicate<T>({ update: (ev) => !sameMap(ev.old.metadata?.annotations, ev.object.metadata?.annotations) });
}

/**
 * Passes events whose object matches the selector; for updates the new object decides (CR's
 * `LabelSelectorPredicate`). The selector is parsed once, here: a bad one throws at construction.
 */
export function labelSelector<T extends KubernetesObject = KubernetesObject>(sel: LabelSelectorInput): Predicate<T> {
  const parsed = parseLabelSelector(sel);
  return (ev) => matchesLabels(parsed, ev.object.metadata?.labels);
}

/** Passes when every predicate passes (none: always). */
export function and<T extends KubernetesObject = KubernetesObject>(...preds: Predicate<T>[]): Predicate<T> {
  return (ev) => preds.every((p) => p(ev));
}

/** Passes when any predicate passes (none: never, as CR's `Or`). */
export function or<T extends KubernetesObject = KubernetesObject>(...preds: Predicate<T>[]): Predicate<T> {
  return (ev) => preds.some((p) => p(ev));
}

/** Passes when `p` does not. */
export function not<T extends KubernetesObject = KubernetesObject>(p: Predicate<T>): Predicate<T> {
  return (ev) => !p(ev);
}
