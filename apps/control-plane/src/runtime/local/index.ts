export { LocalProcessRuntime } from './local-process-runtime';
export { type LocalRuntimeConfig, type RuntimeLogger } from './local-runtime.config';
export { allocatePort, isPortBindable, type PortRange } from './port-allocator';
