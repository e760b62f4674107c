// Consumes `loopline.orchestration.task-commands.v1` in the group `training-task-executor` (a
// work queue: replicas share the partitions) and hands `train` / `tune` commands to the
// TaskExecutor. The handler only records the run (the training runs in the background), so it
// returns well within the session timeout. Provisions the topic and its dead-letter topic first
// (brokers never auto-create topics), retrying in the background until Kafka answers.
import type { Kafka } from 'kafkajs';
import { getTopic, isEvent, RunTaskSchema, StepKind } from '@loopline/contracts';
import { ensureTopics, subscribeToEvents, type Subscription } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import { taskConsumerGroup, type TaskCommand, type TaskExecutor } from '../../application/task-executor';
import { taskCommandsTopic } from './training-messages';

export function stepKindOf(kind: StepKind): TaskCommand['stepKind'] {
  if (kind === StepKind.TRAIN_MODEL) return 'train';
  if (kind === StepKind.TUNE_HYPERPARAMETERS) return 'tune';
  return 'other';
}

export class TaskCommandConsumer {
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly executor: TaskExecutor,
    private readonly logger: Logger,
    private readonly options: { readonly replicationFactor: number; readonly groupId?: string; readonly pipelines?: readonly string[] | null },
  ) {}

  start(): void {
    this.loop ??= this.startWithRetries();
  }

  get running(): boolean {
    return this.subscription !== undefined;
  }

  private async startWithRetries(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        const admin = this.kafka.admin();
        await admin.connect();
        try {
          await ensureTopics(admin, [{ topic: taskCommandsTopic, numPartitions: getTopic(taskCommandsTopic).partitions, replicationFactor: this.options.replicationFactor, withDeadLetterTopic: true }]);
        } finally {
          await admin.disconnect();
        }
        if (this.stopping) return;
        this.subscription = await this.subscribe();
        this.logger.info({ topic: taskCommandsTopic }, 'consuming task commands');
        return;
      } catch (error) {
        const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt - 1, 10));
        this.logger.warn({ err: error, attempt, retryInMs: delay }, 'could not consume task commands yet; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private subscribe(): Promise<Subscription> {
    return subscribeToEvents(this.kafka, {
      groupId: this.options.groupId ?? taskConsumerGroup,
      topics: [taskCommandsTopic],
      fromBeginning: true,
      logger: this.logger,
      handlerTimeoutMs: 20_000,
      handle: async (event) => {
        if (!isEvent(event, RunTaskSchema)) return;
        const command = event.message;
        const stepKind = stepKindOf(command.stepKind);
        if (stepKind === 'other') return;
        if (this.options.pipelines && !this.options.pipelines.includes(command.pipelineName)) return;
        const outcome = await this.executor.handle({
          pipelineRunId: command.runId,
          taskId: command.taskId,
          stepKind,
          idempotencyKey: command.idempotencyKey,
          attempt: command.attempt,
          pipelineName: command.pipelineName,
          params: (command.params ?? {}) as Record<string, unknown>,
        });
        this.logger.info({ pipelineRunId: command.runId, taskId: command.taskId, idempotencyKey: command.idempotencyKey, outcome }, `task command ${outcome}`);
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.subscription?.stop();
  }
}
