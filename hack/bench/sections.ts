/** Every benchmark section, in the order `npm run bench` runs them. Add new sections here. */
import { aggregateSection } from './aggregate.js';
import { informerSection } from './informer.js';
import { kcpSection } from './kcp.js';
import { providerEngageSection } from './provider-engage.js';
import { runtimeFairnessSection, runtimeLatencySection } from './runtime-latency.js';
import { runtimeScaleSection } from './runtime-scale.js';
import { runtimeStockSection } from './runtime-stock.js';
import { runtimeThroughputSection } from './runtime-throughput.js';
import { shardingSection } from './sharding.js';
import type { BenchSection } from './types.js';
import { watchSection } from './watch.js';
import { writesSection } from './writes.js';

export const SECTIONS: readonly BenchSection[] = [writesSection, watchSection, informerSection, kcpSection, runtimeScaleSection, runtimeStockSection, runtimeThroughputSection, runtimeLatencySection, runtimeFairnessSection, providerEngageSection, aggregateSection, shardingSection];
