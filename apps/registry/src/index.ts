export * from './config/registry-config';
export * from './registry-app';
export { runCli, registryCommand } from './cli';
