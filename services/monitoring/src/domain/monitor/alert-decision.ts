// What one evaluation of a monitor means for its alert: at most one open alert per monitor and
// model version; a breach with no open alert raises one, a breach with one open does nothing (no
// alert storm every window), a healthy window resolves the open one, and a window that could not
// be judged (too few labels, no reference yet) changes nothing.

export type Verdict = 'breached' | 'healthy' | 'not_judged';

export type AlertAction = { readonly kind: 'raise' } | { readonly kind: 'resolve'; readonly alertId: string } | { readonly kind: 'none' };

export interface OpenAlertRef {
  readonly alertId: string;
  readonly modelVersion: number;
}

export function decideAlert(verdict: Verdict, open: OpenAlertRef | undefined): AlertAction {
  switch (verdict) {
    case 'breached':
      return open ? { kind: 'none' } : { kind: 'raise' };
    case 'healthy':
      return open ? { kind: 'resolve', alertId: open.alertId } : { kind: 'none' };
    case 'not_judged':
      return { kind: 'none' };
    default: {
      const unknown: never = verdict;
      throw new Error(`unknown verdict ${String(unknown)}`);
    }
  }
}

/** A value breaches its threshold when it is on the degraded side (equal counts as degraded only for lower-is-better). */
export function breaches(value: number, threshold: number, higherIsBetter: boolean): boolean {
  return higherIsBetter ? value < threshold : value > threshold;
}
