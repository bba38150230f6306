export * from './config/registry-config';
export * from './registry-app';
export { registryCommand } from './cli';
