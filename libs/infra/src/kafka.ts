import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { ComponentSpec } from './component';
import { InfrastructureError } from './errors';
import type { InfrastructureLayout } from './layout';
import { requireJava, requireMaven } from './tools';

/** The broker version the local platform runs: Kafka 4.x is KRaft-only and needs Java 17. */
export const kafkaVersion = '4.1.1';

const assetsDir = resolve(__dirname, '..', 'assets');

export interface KafkaSettings {
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly heapMb: number;
  /** Partitions of a topic created without an explicit count. */
  readonly defaultPartitions: number;
}

/**
 * Fetches the broker's jars with Maven into the shared cache, once. The folder is filled under a
 * temporary name and renamed at the end, so an interrupted fetch is never mistaken for a complete one.
 */
export function ensureKafkaJars(cacheDir: string, log: (line: string) => void): string {
  const home = join(cacheDir, `kafka-${kafkaVersion}`);
  const libs = join(home, 'libs');
  if (existsSync(libs) && readdirSync(libs).some((file) => file.startsWith(`kafka_2.13-${kafkaVersion}`))) return libs;
  const mvn = requireMaven();
  mkdirSync(home, { recursive: true });
  const pom = join(home, 'pom.xml');
  writeFileSync(pom, readFileSync(join(assetsDir, 'kafka-pom.xml'), 'utf8').replace('@KAFKA_VERSION@', kafkaVersion));
  const staging = join(home, `libs.partial-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  log(`kafka: fetching Apache Kafka ${kafkaVersion} jars from Maven Central into ${home} (once)…`);
  const result = spawnSync(mvn, ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    throw new InfrastructureError(
      'FETCH_FAILED',
      `could not fetch the Kafka jars with Maven (exit ${result.status}):\n${(result.stdout + result.stderr).trim().slice(-2000)}`,
    );
  }
  rmSync(libs, { recursive: true, force: true });
  renameSync(staging, libs);
  log(`kafka: ${readdirSync(libs).length} jars cached`);
  return libs;
}

export function kafkaBrokers(settings: KafkaSettings): string[] {
  return [`${settings.host}:${settings.port}`];
}

/** Healthy = the broker answers metadata requests and the KRaft controller has elected itself. */
export async function kafkaHealthy(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'loopline-infra-health',
    brokers,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function serverProperties(settings: KafkaSettings, logDir: string): string {
  const { host, port, controllerPort } = settings;
  return [
    '# Written by libs/infra: a single-node broker + controller in KRaft mode.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${logDir}`,
    `num.partitions=${settings.defaultPartitions}`,
    // Topics are provisioned explicitly (libs/messaging); a typo must fail, not create a topic.
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'min.insync.replicas=1',
    'unclean.leader.election.enable=false',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

export function kafkaComponent(layout: InfrastructureLayout, settings: KafkaSettings, log: (line: string) => void): ComponentSpec {
  const home = layout.component('kafka');
  const configFile = join(home, 'server.properties');
  const logDir = join(home, 'data');
  let java = 'java';
  let libs = '';
  return {
    name: 'kafka',
    pidFile: layout.pidFile('kafka'),
    logFile: layout.logFile('kafka'),
    // The config path is unique to this data folder, so it identifies our broker among all JVMs.
    marker: configFile,
    endpoint: kafkaBrokers(settings).join(','),
    host: settings.host,
    ports: [
      { port: settings.port, setting: 'LOOPLINE_KAFKA_PORT' },
      { port: settings.controllerPort, setting: 'LOOPLINE_KAFKA_CONTROLLER_PORT' },
    ],
    startTimeoutMs: 60_000,
    stopSignal: 'SIGTERM',
    stopGraceMs: 30_000,
    healthy: () => kafkaHealthy(kafkaBrokers(settings)),
    prepare: async () => {
      java = requireJava();
      libs = ensureKafkaJars(layout.cacheDir, log);
      mkdirSync(logDir, { recursive: true });
      writeFileSync(configFile, serverProperties(settings, logDir));
      if (!existsSync(join(logDir, 'meta.properties'))) {
        const clusterId = kafkaClusterId();
        const format = spawnSync(java, ['-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile], {
          encoding: 'utf8',
        });
        if (format.status !== 0) {
          throw new InfrastructureError('START_FAILED', `kafka: formatting the KRaft storage failed:\n${format.stdout}${format.stderr}`);
        }
        log(`kafka: formatted KRaft storage (cluster ${clusterId})`);
      }
    },
    spawnOptions: () => ({
      command: java,
      args: [
        `-Xms${Math.min(256, settings.heapMb)}m`,
        `-Xmx${settings.heapMb}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(assetsDir, 'kafka-log4j2.properties')}`,
        '-cp',
        `${libs}/*`,
        'kafka.Kafka',
        configFile,
      ],
    }),
  };
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what `random-uuid` prints). */
function kafkaClusterId(): string {
  // An id starting with '-' would be read as an option by the storage tool's argument parser.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}
