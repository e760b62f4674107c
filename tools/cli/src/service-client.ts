// How the platform commands (`models`, `runs`, `predict`, `alerts`, `lineage`) reach the
// services: each one's public REST API at LOOPLINE_<SERVICE>_URL, or else at the address
// `loopline up` gives it (LOOPLINE_HOST and LOOPLINE_<SERVICE>_HTTP_PORT, default ports of
// DESIGN.md). Failures become one-line errors: a service that does not answer names itself and
// its URL; a 4xx carries the service's own message.
import { defaultPorts, envPrefix, type ServiceName } from '@loopline/config';

/** A problem to report to the user as one line, with the exit code it ends the command with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad arguments: exit code 2, with the command's usage printed after the message. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** The service did not answer at all (refused, unreachable, timed out). */
export class ServiceUnavailableError extends CliError {
  constructor(
    readonly service: ServiceName,
    readonly url: string,
    cause: string,
  ) {
    super(`${service} does not answer at ${url} (${cause}): is it running (\`loopline up\`, or set ${envPrefix(service)}URL)?`);
    this.name = 'ServiceUnavailableError';
  }
}

/** The service answered with an error status; `message` is the service's own explanation. */
export class ServiceResponseError extends CliError {
  constructor(
    readonly service: ServiceName,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(responseErrorMessage(service, status, body));
    this.name = 'ServiceResponseError';
  }
}

interface ErrorBody {
  readonly error?: unknown;
  readonly message?: unknown;
  readonly details?: { readonly problems?: readonly unknown[] };
}

function responseErrorMessage(service: ServiceName, status: number, body: unknown): string {
  const error = (typeof body === 'object' && body !== null ? body : {}) as ErrorBody;
  const text = typeof error.error === 'string' ? error.error : typeof error.message === 'string' ? error.message : typeof body === 'string' && body !== '' ? body.slice(0, 300) : '';
  const problems = (error.details?.problems ?? []).map((problem) =>
    typeof problem === 'string' ? problem : typeof problem === 'object' && problem !== null ? problemText(problem as Record<string, unknown>) : String(problem),
  );
  const detail = problems.length > 0 && !problems.every((problem) => text.includes(problem)) ? `\n  ${problems.join('\n  ')}` : '';
  if (status >= 500) return `${service} failed (HTTP ${status})${text ? `: ${text}` : ''}${detail}`;
  return `${text || `${service} answered HTTP ${status}`}${detail}`;
}

function problemText(problem: Record<string, unknown>): string {
  if (typeof problem.text === 'string') return problem.text;
  if (typeof problem.message === 'string') return typeof problem.path === 'string' && problem.path ? `${problem.path}: ${problem.message}` : problem.message;
  return JSON.stringify(problem);
}

/** The base URL of a service's REST API, without a trailing slash. */
export function serviceUrl(service: ServiceName, env: NodeJS.ProcessEnv): string {
  const prefix = envPrefix(service);
  const explicit = env[`${prefix}URL`];
  if (explicit !== undefined && explicit.trim() !== '') return explicit.trim().replace(/\/+$/, '');
  const host = env.LOOPLINE_HOST && env.LOOPLINE_HOST !== '0.0.0.0' && env.LOOPLINE_HOST !== '::' ? env.LOOPLINE_HOST : '127.0.0.1';
  const port = env[`${prefix}HTTP_PORT`] ?? String(defaultPorts[service].http);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Who the CLI acts as in the services' audit trails: LOOPLINE_ACTOR, or `user:<login>`. */
export function cliActor(env: NodeJS.ProcessEnv): string {
  const explicit = env.LOOPLINE_ACTOR?.trim();
  if (explicit) return explicit;
  const login = (env.USER ?? env.LOGNAME ?? env.USERNAME ?? 'cli').replace(/[^\x21-\x7e]/g, '') || 'cli';
  return `user:${login}`;
}

export interface ServiceResponse<T> {
  readonly status: number;
  readonly body: T;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** Statuses (beside 2xx) returned to the caller instead of thrown, e.g. 404 or 409. */
  readonly accept?: readonly number[];
}

const defaultTimeoutMs = 60_000;

/** A JSON client of one service's REST API. */
export class ServiceClient {
  constructor(
    readonly service: ServiceName,
    readonly url: string,
    private readonly actor: string,
    private readonly timeoutMs = defaultTimeoutMs,
  ) {}

  static of(service: ServiceName, env: NodeJS.ProcessEnv): ServiceClient {
    const timeout = Number(env.LOOPLINE_CLI_TIMEOUT_S);
    return new ServiceClient(service, serviceUrl(service, env), cliActor(env), Number.isFinite(timeout) && timeout > 0 ? timeout * 1000 : defaultTimeoutMs);
  }

  /** Sends a request; a 2xx (or an accepted status) is returned, anything else thrown as a `CliError`. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ServiceResponse<T>> {
    const query = Object.entries(options.query ?? {}).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '');
    const target = `${this.url}${path}${query.length > 0 ? `?${new URLSearchParams(query.map(([key, value]): [string, string] => [key, String(value)])).toString()}` : ''}`;
    let response: Response | undefined;
    // A kept-alive connection the server closed at the same moment fails a request that was never
    // processed: a read is retried once on a fresh connection; a write is not (it may have landed).
    for (let attempt = 1; response === undefined; attempt += 1) {
      try {
        response = await fetch(target, {
          method,
          headers: { accept: 'application/json', 'x-loopline-actor': this.actor, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        const failure = fetchFailure(error, this.timeoutMs);
        if (method !== 'GET' || attempt > 1 || !connectionReset(failure)) throw new ServiceUnavailableError(this.service, this.url, failure);
      }
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new ServiceUnavailableError(this.service, this.url, `the answer was cut off: ${fetchFailure(error, this.timeoutMs)}`);
    }
    const body = parseJson(text);
    if (response.ok || options.accept?.includes(response.status)) return { status: response.status, body: body as T };
    throw new ServiceResponseError(this.service, response.status, body);
  }

  async get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>('GET', path, { query })).body;
  }

  /** GET that answers `undefined` for a 404 (something absent is an answer, not an error). */
  async find<T>(path: string): Promise<T | undefined> {
    const response = await this.request<T>('GET', path, { accept: [404] });
    return response.status === 404 ? undefined : response.body;
  }

  /** Downloads a body as text (logs, artifacts). */
  async text(path: string): Promise<string> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, { headers: { 'x-loopline-actor': this.actor }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new ServiceUnavailableError(this.service, this.url, fetchFailure(error, this.timeoutMs));
    }
    const text = await response.text();
    if (!response.ok) throw new ServiceResponseError(this.service, response.status, parseJson(text));
    return text;
  }
}

function parseJson(text: string): unknown {
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Why fetch failed, in a few words: `ECONNREFUSED`, `ENOTFOUND`, `no answer within 60 s`. */
function fetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function connectionReset(failure: string): boolean {
  return /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed/i.test(failure);
}

/** Path segment, encoded. */
export function segment(value: string | number): string {
  return encodeURIComponent(String(value));
}
