import { ConfigError, type ServiceConfig } from '@loopline/config';
import type { ServiceDefinition } from './service-definition';
import { shutdownExitCode } from './shutdown/shutdown';
import { defaultShutdownTimeoutMs, startService, type RunningService } from './start-service';

export interface BootstrapOptions {
  /** How long SIGTERM/SIGINT may take before the process gives up and exits 1. */
  readonly shutdownTimeoutMs?: number;
}

/**
 * The one way a service process starts (its `main.ts` is this call). Owns the process: a bad
 * configuration prints every invalid key and exits 1; a failed start is logged and exits 1;
 * SIGTERM or SIGINT stop the service gracefully and exit 0, or 1 if a step failed or the
 * shutdown outlived its bound. A second signal exits at once.
 */
export async function bootstrapService<C extends ServiceConfig>(definition: ServiceDefinition<C>, options: BootstrapOptions = {}): Promise<void> {
  let service: RunningService<C>;
  try {
    service = await startService(definition);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${definition.manifest.name}: ${error.message}\n`);
    } else {
      process.stderr.write(`${definition.manifest.name}: could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  }
  const { logger } = service;
  const timeoutMs = options.shutdownTimeoutMs ?? defaultShutdownTimeoutMs;

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, `received ${signal} again: exiting without finishing the shutdown`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, `received ${signal}: shutting down`);
    void service.stop(timeoutMs).then((outcome) => {
      const code = shutdownExitCode(outcome);
      if (outcome.timedOutIn !== undefined) {
        logger.error({ step: outcome.timedOutIn, timeoutMs }, `shutdown did not finish within ${timeoutMs} ms (stuck in "${outcome.timedOutIn}"): exiting with 1`);
      } else if (code === 0) {
        logger.info({ steps: outcome.completed }, 'stopped cleanly');
      } else {
        logger.error({ failed: outcome.failed.map((failure) => failure.step) }, 'stopped, but some steps failed: exiting with 1');
      }
      process.exit(code);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection: exiting');
    process.exit(1);
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception: exiting');
    process.exit(1);
  });
}
