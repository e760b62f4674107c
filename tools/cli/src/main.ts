import { parseArgs } from 'node:util';
import { ConfigError, loadPlatformConfig, type PlatformConfig } from '@loopline/config';
import { InfrastructureError } from '@loopline/infra';
import { runDemoCommand } from './demo/demo-command';
import { runFeaturesCommand } from './features-command';
import { runPipelinesCommand } from './pipelines-command';
import { platformCommands, platformCommandsUsage } from './platform-commands';
import { platformStatus, startPlatform, stopPlatform } from './local-platform';
import { LogTail } from './log-tail';

const usage = `loopline — the Loopline command

usage: loopline <command> [--data-dir <folder>]

commands:
  up        start Kafka, PostgreSQL and the seven services locally, print where each
            listens and stream their logs; Ctrl-C stops everything
  down      stop everything a previous \`loopline up\` left running
  status    show each component's state, pid and address
  demo      the closed loop on real flights data, end to end (\`loopline demo -h\`)
  features  plan|apply feature definitions, get online features (\`loopline features -h\`)
  pipelines apply, run, watch and inspect pipelines (\`loopline pipelines -h\`)
${platformCommandsUsage}

options:
  --data-dir <folder>   where data, logs and pid files live (default: .loopline, or LOOPLINE_DATA_DIR)
  --detach              (up) return once everything is healthy, leaving it running
  -h, --help            show this help

Ports and other settings come from the environment: see the README, "Configuration".`;

function log(line: string): void {
  process.stdout.write(`\x1b[2m[loopline]\x1b[0m ${line}\n`);
}

async function up(config: PlatformConfig, detach: boolean): Promise<number> {
  const started = Date.now();
  let stopping = false;
  const stopAll = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log(`${reason}: stopping everything…`);
    await stopPlatform(config, log);
    log('stopped');
  };
  // A Ctrl-C during start-up must not leave half a platform behind.
  const interrupted = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      void stopAll(signal).then(() => resolve(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });

  let platform;
  try {
    platform = await Promise.race([startPlatform(config, process.env, log), interrupted]);
  } catch (error) {
    await stopAll('start-up failed');
    throw error;
  }
  if (typeof platform === 'number') return platform;

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(`everything is up in ${seconds} s:`);
  const width = Math.max(...platform.endpoints.map((entry) => entry.name.length));
  for (const { name, endpoint, reused } of platform.endpoints) {
    log(`  ${name.padEnd(width)}  ${endpoint}${reused ? '  (was already running)' : ''}`);
  }
  if (detach) {
    log('detached: `loopline status` shows the state, `loopline down` stops everything');
    return 0;
  }
  log('streaming service logs; press Ctrl-C to stop everything');
  const tail = new LogTail(platform.logFiles);
  tail.start();
  const code = await interrupted;
  tail.stop();
  return code;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'demo') return runDemoCommand(argv.slice(1));
  if (argv[0] === 'features') return runFeaturesCommand(argv.slice(1));
  if (argv[0] === 'pipelines') return runPipelinesCommand(argv.slice(1));
  const platformCommand = argv[0] !== undefined && Object.hasOwn(platformCommands, argv[0]) ? platformCommands[argv[0]] : undefined;
  if (platformCommand) return platformCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      detach: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const env = { ...process.env, ...(values['data-dir'] ? { LOOPLINE_DATA_DIR: values['data-dir'] } : {}) };
  const config = loadPlatformConfig(env);
  switch (command) {
    case 'up':
      return up(config, values.detach ?? false);
    case 'down':
      await stopPlatform(config, log);
      log('everything is stopped');
      return 0;
    case 'status': {
      const statuses = await platformStatus(config, env);
      const width = Math.max(...statuses.map((status) => status.name.length));
      for (const status of statuses) {
        const pid = status.pid ? `pid ${status.pid}` : '';
        console.log(`${status.name.padEnd(width)}  ${status.state.padEnd(9)}  ${pid.padEnd(10)}  ${status.endpoint ?? ''}`.trimEnd());
      }
      return statuses.every((status) => status.state === 'running') ? 0 : 3;
    }
    default:
      console.error(`unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof InfrastructureError) console.error(`loopline: ${error.message}`);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
