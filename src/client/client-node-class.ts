/**
 * client-node's `KubeConfig` class, loaded on first use. The package index re-exports it so that
 * a program builds the very class the library's signatures name; loading client-node eagerly there
 * would put its generated API (26 MiB of heap) into every process that imports the library, also
 * into controllers that never build a `KubeConfig` (`kcp-mc run` reads kubeconfigs without it).
 * The first `new KubeConfig()`, static access, `extends` or `instanceof` loads the real class
 * (the same module instance `import('@kubernetes/client-node')` gives).
 */
import { createRequire } from 'node:module';
import type * as ClientNode from '@kubernetes/client-node';

let real: typeof ClientNode.KubeConfig | undefined;

function load(): typeof ClientNode.KubeConfig {
  // require() of an ES module (Node ≥ 20.19) shares the module cache with import().
  return (real ??= (createRequire(import.meta.url)('@kubernetes/client-node') as typeof ClientNode).KubeConfig);
}

/** Stands in for the class until it is used: construction and property reads go to the real one. */
export const KubeConfig: typeof ClientNode.KubeConfig = new Proxy(function KubeConfig() {} as unknown as typeof ClientNode.KubeConfig, {
  construct: (_target, args, newTarget) => Reflect.construct(load(), args, newTarget === KubeConfig ? load() : newTarget),
  apply: (_target, thisArg, args) => Reflect.apply(load() as unknown as (...a: unknown[]) => unknown, thisArg, args),
  get: (_target, prop) => Reflect.get(load(), prop),
  has: (_target, prop) => Reflect.has(load(), prop),
  getPrototypeOf: () => Reflect.getPrototypeOf(load()),
});

/** An instance of client-node's `KubeConfig`. */
export type KubeConfig = ClientNode.KubeConfig;
