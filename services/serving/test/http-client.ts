/** Small helpers over fetch for the OIP REST API. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
}

export async function call(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = { unparsed: text };
  }
  return { status: response.status, headers: response.headers, json };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export interface OutputJson {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly data: unknown[];
}

export function outputNamed(answer: HttpAnswer, name: string): OutputJson {
  const outputs = answer.json.outputs as OutputJson[] | undefined;
  const output = outputs?.find((candidate) => candidate.name === name);
  if (!output) throw new Error(`no output ${name} in ${JSON.stringify(answer.json)}`);
  return output;
}
