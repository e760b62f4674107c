/** Why the local infrastructure could not start, phrased so a person knows what to do. */
export class InfrastructureError extends Error {
  constructor(
    readonly code: 'MISSING_TOOL' | 'FETCH_FAILED' | 'START_FAILED' | 'UNHEALTHY' | 'PORT_IN_USE',
    message: string,
  ) {
    super(message);
    this.name = 'InfrastructureError';
  }
}
