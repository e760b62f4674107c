// The event streams of orchestration, by aggregate.
export function runStreamId(runId: string): string {
  return `pipeline_run-${runId}`;
}
export function pipelineStreamId(name: string): string {
  return `pipeline-${name}`;
}
export function triggersStreamId(name: string): string {
  return `pipeline_triggers-${name}`;
}
