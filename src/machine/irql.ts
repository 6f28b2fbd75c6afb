/**
 * IRQL levels of an x64 Windows machine (nt-semantics section 1.1). An IRQL is a
 * property of a logical CPU: raising it masks every interrupt source at or
 * below the new level on that CPU only.
 */
export const PASSIVE_LEVEL = 0;
export const LOW_LEVEL = 0;
export const APC_LEVEL = 1;
export const DISPATCH_LEVEL = 2;
export const CMCI_LEVEL = 5;
/** The lowest and highest device IRQL (DIRQL) an interrupt object may use. */
export const DIRQL_MIN = 3;
export const DIRQL_MAX = 11;
export const SYNCH_LEVEL = 12;
export const CLOCK_LEVEL = 13;
export const IPI_LEVEL = 14;
export const POWER_LEVEL = 14;
export const PROFILE_LEVEL = 15;
export const HIGH_LEVEL = 15;

export type KIRQL = number;

const NAMES: Record<number, string> = {
  0: 'PASSIVE_LEVEL',
  1: 'APC_LEVEL',
  2: 'DISPATCH_LEVEL',
  12: 'SYNCH_LEVEL',
  13: 'CLOCK_LEVEL',
  14: 'IPI_LEVEL',
  15: 'HIGH_LEVEL',
};

export function irqlName(irql: KIRQL): string {
  return NAMES[irql] ?? (irql >= DIRQL_MIN && irql <= DIRQL_MAX ? `DIRQL ${irql}` : `IRQL ${irql}`);
}
