export { topology, type Topology } from './topology.js';
