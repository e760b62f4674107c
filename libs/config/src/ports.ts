/** The seven services and their default ports (DESIGN.md, "Default ports and entry points"). */
export const serviceNames = ['ingestion', 'feature-store', 'orchestration', 'training', 'registry', 'serving', 'monitoring'] as const;
export type ServiceName = (typeof serviceNames)[number];

export const defaultPorts: Readonly<Record<ServiceName, { readonly http: number; readonly grpc: number }>> = {
  ingestion: { http: 7001, grpc: 7501 },
  'feature-store': { http: 7002, grpc: 7502 },
  orchestration: { http: 7003, grpc: 7503 },
  training: { http: 7004, grpc: 7504 },
  registry: { http: 7005, grpc: 7505 },
  serving: { http: 8080, grpc: 8081 },
  monitoring: { http: 7007, grpc: 7507 },
};

/** The feature store's online server (online reads on a worker thread of their own). */
export const featureStoreOnlinePorts = { http: 7012, grpc: 7512 } as const;
