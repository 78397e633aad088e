/** The work queue: the contract, the priority queue and its rate limiters. */
export * from './types.js';
export { PriorityQueue, type PriorityQueueOptions } from './priority-queue.js';
export { BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, defaultRateLimiter, type KeyOf } from './rate-limiter.js';
