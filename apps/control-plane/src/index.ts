export { platformCommand } from './cli';
export { startControlPlane, buildOpenApi, type RunningControlPlane } from './control-plane-app';
export { loadControlPlaneConfig, type ControlPlaneConfig } from './config/control-plane-config';
export { bootstrapPlatform } from './platform-bootstrap';
