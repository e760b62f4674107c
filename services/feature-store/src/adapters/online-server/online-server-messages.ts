// What the main thread and the online server's worker thread tell each other.

export interface OnlineServerOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly httpPort: number;
  readonly grpcPort: number;
  /** The settings that change the ports, named in the error when one is taken. */
  readonly httpPortSetting: string;
  readonly grpcPortSetting: string;
  readonly postgresUrl: string;
  readonly cacheRowsPerView: number;
  /** Scheduling priority of the worker thread (nice value, -20…19; 0 leaves it as it is). */
  readonly nice: number;
  /** The service's own gRPC address, where pushes go. */
  readonly mainGrpcAddress: string;
}

export type ToWorker = { readonly type: 'invalidate'; readonly view: string; readonly version: number } | { readonly type: 'stop' };

export type ToMainThread =
  | { readonly type: 'listening'; readonly httpPort: number; readonly grpcPort: number }
  | { readonly type: 'failed'; readonly setting: string; readonly port: number; readonly reason: string }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly msg: string; readonly error?: string };
