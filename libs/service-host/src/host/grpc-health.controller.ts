import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import type { ReadinessReport } from '../readiness/readiness';
import { ReadinessMonitor } from '../readiness/readiness-monitor';

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`, as the proto loader maps enums to names. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface HealthCheckRequest {
  readonly service?: string;
}

interface HealthCheckResponse {
  readonly status: ServingStatus;
}

/** The names a client may ask about: '' for the whole server, and `loopline.<service>`. */
export const HEALTH_SERVICE_NAMES = Symbol('loopline:health-service-names');

export function servingStatus(report: ReadinessReport | undefined): ServingStatus {
  if (!report) return 'UNKNOWN';
  return report.ready ? 'SERVING' : 'NOT_SERVING';
}

/**
 * The standard gRPC health service (grpc/health/v1), answering from the same readiness as
 * `GET /health/ready`, so Kubernetes gRPC probes, grpc_health_probe and load balancers agree with
 * the HTTP view.
 */
@Controller()
export class GrpcHealthController {
  constructor(
    private readonly readiness: ReadinessMonitor,
    @Inject(HEALTH_SERVICE_NAMES) private readonly serviceNames: readonly string[],
  ) {}

  @GrpcMethod('Health', 'Check')
  async check(request: HealthCheckRequest): Promise<HealthCheckResponse> {
    if (!this.serviceNames.includes(request.service ?? '')) {
      throw new RpcException({ code: GrpcStatus.NOT_FOUND, message: `unknown service "${request.service}"` });
    }
    return { status: servingStatus(await this.readiness.evaluate()) };
  }

  /**
   * Sends the current status, then every change; ends when the server shuts down. An unknown
   * service gets SERVICE_UNKNOWN and the call stays open, as the protocol asks.
   */
  @GrpcMethod('Health', 'Watch')
  watch(request: HealthCheckRequest): Observable<HealthCheckResponse> {
    const known = this.serviceNames.includes(request.service ?? '');
    return new Observable<HealthCheckResponse>((subscriber) => {
      let last: ServingStatus | undefined;
      const send = (status: ServingStatus): void => {
        if (status === last) return;
        last = status;
        subscriber.next({ status });
      };
      const unsubscribe = this.readiness.onChange((report) => {
        if (known) send(servingStatus(report));
        if (this.readiness.isDraining) subscriber.complete();
      });
      if (!known) send('SERVICE_UNKNOWN');
      else if (this.readiness.current) send(servingStatus(this.readiness.current));
      else void this.readiness.evaluate().then((report) => send(servingStatus(report)));
      if (this.readiness.isDraining) subscriber.complete();
      return unsubscribe;
    });
  }
}
