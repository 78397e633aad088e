/** The kcp objects and the options of the testing kit (kit.ts). */
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject, ObjectType } from '../client/index.js';
import type { APIExportEndpointSlice } from '../provider/index.js';
import type { ServerOptions } from '../server/index.js';
import type { Condition, ObjectWithConditions } from './wait.js';

/** `tenancy.kcp.io/v1alpha1` Workspace. */
export const WORKSPACE: ObjectType<Workspace> = { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace' };
/** `apis.kcp.io/v1alpha2` APIExport. */
export const API_EXPORT: ObjectType<APIExport> = { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIExport' };
/** `apis.kcp.io/v1alpha2` APIBinding. */
export const API_BINDING: ObjectType<APIBinding> = { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIBinding' };
/** `apis.kcp.io/v1alpha1` APIExportEndpointSlice. */
export const API_EXPORT_ENDPOINT_SLICE: ObjectType<EndpointSlice> = { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIExportEndpointSlice' };


/** A Workspace, as far as the kit reads it. */
export interface Workspace extends KubernetesObject {
  /** What the workspace is. */
  spec?: {
    /** Its WorkspaceType. */
    type?: WorkspaceTypeReference;
    /** Its logical cluster name, set once scheduled. */
    cluster?: string;
    [field: string]: unknown;
  };
  /** Filled in by kcp. */
  status?: {
    /** `Scheduling`, `Initializing`, `Ready` or `Unavailable`. */
    phase?: string;
    /** Conditions, e.g. `WorkspaceScheduled`. */
    conditions?: Condition[];
  };
}

/** An APIExport permission claim. */
export interface PermissionClaim {
  /** API group; empty or absent for the core group. */
  group?: string;
  /** Plural resource name, e.g. `configmaps`. */
  resource: string;
  /** Identity hash of the export that owns the resource, for resources of other exports. */
  identityHash?: string;
  /** Verbs claimed, e.g. `["get", "list", "watch"]` or `["*"]`. */
  verbs?: string[];
}

/** An APIExport, as far as the kit reads it. */
export interface APIExport extends KubernetesObject {
  /** What the export offers. */
  spec?: {
    /** Access to resources in the bound workspaces that the export asks for. */
    permissionClaims?: PermissionClaim[];
    [field: string]: unknown;
  };
}

/** An APIBinding, as the kit writes and reads it. */
export interface APIBinding extends ObjectWithConditions {
  /** What is bound. */
  spec?: {
    /** The export bound. */
    reference: {
      /** Where the export is and its name. */
      export: ExportReference;
    };
    /** The export's claims, each accepted or rejected. */
    permissionClaims?: (PermissionClaim & {
      /** Which objects the claim covers; the kit accepts for all. */
      selector: {
        /** Every object of the resource. */
        matchAll: true;
      };
      /** Whether the claim is granted. */
      state: 'Accepted' | 'Rejected';
    })[];
  };
}

/** An APIExportEndpointSlice: the provider's own type of it. */
export type EndpointSlice = APIExportEndpointSlice;

/** A WorkspaceType by name, and the path of the workspace defining it (e.g. `root`). */
export interface WorkspaceTypeReference {
  /** The type's name, e.g. `universal`. */
  name: string;
  /** Path of the workspace that defines it, e.g. `root`; absent for the parent's own. */
  path?: string;
}

/** Which APIExport: the workspace path holding it and its name. */
export interface ExportReference {
  /** Workspace path of the export, e.g. `root:provider`. */
  path: string;
  /** Name of the export. */
  name: string;
}

/** A workspace the kit created: its logical cluster name (what requests carry) and its path. */
export interface TestWorkspace {
  /** The logical cluster name (`spec.cluster`), e.g. `2x8wj7xv1fn0plnj`. */
  readonly name: string;
  /** The workspace path, e.g. `root:org:team`. */
  readonly path: string;
  /** The Workspace object as last read (in the parent workspace). */
  readonly workspace: Workspace;
}

/** Options of `startTestEnvironment`. */
export interface TestEnvironmentOptions {
  /** Options of the reference server; the port defaults to 0 (a free one). */
  server?: ServerOptions;
  /** Deadline of every wait the environment makes or offers, in ms; default 30 s. */
  timeoutMs?: number;
  /** Field manager of `apply` and `bind`; default `kcp-mc-testing`. */
  fieldManager?: string;
}

/** Options of `createWorkspace`. */
export interface CreateWorkspaceOptions {
  /** The WorkspaceType of the last segment: `name`, `path:name` or a reference; the parent's default otherwise. */
  type?: string | WorkspaceTypeReference;
  /** The phase to wait for: `Ready` (default), or `Initializing` for a type with initializers. */
  until?: 'Ready' | 'Initializing';
  /** Deadline in ms; default the environment's. */
  timeoutMs?: number;
}

/** Options of `apply`. */
export interface ApplyManifestOptions {
  /** Namespace of namespaced objects that name none; default `default`, as kubectl does. */
  namespace?: string;
  /** Field manager; default the environment's. */
  fieldManager?: string;
  /** Deadline in ms of waiting for a CustomResourceDefinition to be Established or an APIBinding Ready; default the environment's. */
  timeoutMs?: number;
}

/** Options of `bind`. */
export interface BindOptions {
  /** Name of the APIBinding; default the export's name. */
  name?: string;
  /** Deadline in ms of waiting for Ready; default the environment's. */
  timeoutMs?: number;
}

/** Options of `virtualWorkspace`. */
export interface VirtualWorkspaceOptions {
  /** Endpoints (shards) to wait for; default 1. */
  endpoints?: number;
  /** Deadline in ms; default the environment's. */
  timeoutMs?: number;
}

/** An APIExport's virtual workspace, from its endpoint slice: what a provider is pointed at. */
export interface VirtualWorkspace {
  /** The first endpoint URL (`<shard>/services/apiexport/<cluster>/<export>`). */
  readonly url: string;
  /** Every endpoint URL of the slice, one per shard with a binding. */
  readonly urls: readonly string[];
  /** A KubeConfig whose server is `url`, with the admin credentials. */
  readonly kubeConfig: KubeConfig;
  /** The same KubeConfig written to a file (removed by `stop()`). */
  readonly file: string;
}

/** A manager the environment runs; `stop()` (or the environment's) stops it. */
export interface RunningManager {
  /** Settles when `manager.start` returns: resolves on a clean stop, rejects if it failed. */
  readonly done: Promise<void>;
  /** Aborts the manager's signal and waits for it to stop; rejects with its failure, if any. */
  stop(): Promise<void>;
}
