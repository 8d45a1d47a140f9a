export { topology, type Topology } from './topology.js';
export * from './messages.js';
export * from './streams.js';
export * from './cancellations.js';
export * from './permissions.js';
export * from './connect-options.js';
export * from './layout.js';
export * from './pools.js';
export * from './harbor-versions.js';
