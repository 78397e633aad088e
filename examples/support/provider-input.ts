/** What an example's `provider` function takes: the shape `kcp-mc run` hands a module's `provider`. */
import type { Logger } from 'kcp-multicluster-provider';

/** Inputs of an example's provider. */
export interface ProviderInput {
  /** The program's logger. */
  log: Logger;
  /** `reportingController` of the Events the clusters' recorders write. */
  eventSource: string;
  /** The APIExportEndpointSlice (APIExport examples; they default to the manifests' name). */
  endpointSlice?: string;
}
