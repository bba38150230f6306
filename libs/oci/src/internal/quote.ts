/**
 * Quote a client-supplied string for an error message, truncating long values so that a
 * hostile request cannot make the registry echo megabytes back.
 */
export function quote(value: string, max = 100): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}
