/** The RxJS informer engine: listWatch, Store and indexes, SharedInformer, InformerFactory, ScopedReader. */
export { listWatch, type ListWatchOptions, type ClusterFilter } from './listwatch.js';
export { compareResourceVersions } from './partition.js';
export { Store, keyOf, type StoreOptions, type StoreReader, type IndexFunc } from './store.js';
export { Relist } from './delta.js';
export { Entry, type CachedEntry, type EntryKey, type TypeMeta } from './entry.js';
export type { Chunk } from './chunks.js';
export { scanList, scanObject, scanWatchEvent, type ScannedList, type ScannedObject, type ScannedEvent } from './scan.js';
export { ByteLineSplitter } from './lines.js';
export { LineSplitter, DEFAULT_MAX_LINE_BYTES, type LineSplitterOptions } from './lines.js';
export { decodeWatchLine, type WatchEvent, type MalformedLine } from './decode.js';
export { Backoff, backoffDelay, type BackoffOptions } from './backoff.js';
export { deepFreeze, freezeByDefault } from './freeze.js';
export { parseLabelSelector, matchesLabels, type LabelSelector, type LabelRequirement, type LabelSelectorInput } from './labels.js';
export { CLUSTER_ANNOTATION, ClusterResolver, urlCluster, type URLCluster, type ObjectAbout } from './cluster.js';
export { jsonLineLog, silentLog, type Log, type LogEntry, type LogLevel } from './log.js';
export {
  resourcePath,
  type KubeObject,
  type ClusterObjectKey,
  type Cached,
  type ObjectOrCached,
  type DeepReadonly,
  type Delta,
  type DeltaKey,
  type ListWatchEvent,
  type ResourceRef,
} from './types.js';
export { SharedInformer, informerKey, forCluster, type InformerOptions, type EventHandlers, type InformerLifecycle } from './informer.js';
export { InformerFactory, type InformerRequest } from './factory.js';
export { ScopedReader, type ScopedListOptions } from './reader.js';
