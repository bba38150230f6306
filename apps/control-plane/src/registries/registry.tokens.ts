/** Injection tokens of the registries module. */
export const DATABASE_PROVISIONER = Symbol('DATABASE_PROVISIONER');
