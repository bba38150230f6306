/** Nest injection token of the validated ControlPlaneConfig. */
export const CONTROL_PLANE_CONFIG = Symbol('CONTROL_PLANE_CONFIG');
