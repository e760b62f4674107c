import { spawnSync } from 'node:child_process';
import { InfrastructureError } from './errors';

/** Java 17+ runs the Kafka broker; the message says what to install when it is missing. */
export function requireJava(javaHome = process.env.JAVA_HOME): string {
  const java = javaHome ? `${javaHome}/bin/java` : 'java';
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new InfrastructureError(
      'MISSING_TOOL',
      'Java 17 or newer is required to run the local Kafka broker, and `java` was not found. Install a JDK (for example `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME.',
    );
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(result.stderr);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
  if (major < 17) {
    throw new InfrastructureError(
      'MISSING_TOOL',
      `Java 17 or newer is required to run the local Kafka broker; found Java ${major || 'of unknown version'}. Install a newer JDK or point JAVA_HOME at one.`,
    );
  }
  return java;
}

/** Maven fetches the Kafka jars once; only needed when they are not cached yet. */
export function requireMaven(): string {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new InfrastructureError(
      'MISSING_TOOL',
      'Apache Maven is required once, to fetch the Kafka broker jars from Maven Central, and `mvn` was not found. Install it (for example `apt-get install maven`).',
    );
  }
  return 'mvn';
}
