// The typed client of the studio's HTTP API (peftstudio/server). Every answer that is not OK carries a
// plain error (code, title, explanation, actions, help anchor); it is thrown as an ApiError.
// What the page sends is typed from the server's OpenAPI schema: api-schema.d.ts is generated from it by
// the build (tools/build_web.sh: peftstudio.server.schema, then openapi-typescript), never written by hand.
import type { components } from "./api-schema";

export type Schemas = components["schemas"];
export type PlanRequest = Schemas["PlanRequest"];
export type StartRequest = Schemas["StartRequest"];
export type PresetRequest = Schemas["PresetRequest"];
export type CheckRequest = Schemas["CheckRequest"];
export type DataFixRequest = Schemas["DataFixRequest"];
export type RunFixRequest = Schemas["RunFixRequest"];
export type NotifySwitches = Schemas["NotifySwitches"];
export type LocalModelRequest = Schemas["LocalModelRequest"];

export interface Action {
  label: string;
  fix_id: string | null;
  steps: string[];
}

export interface ErrorInfo {
  code: string;
  title: string;
  explanation: string;
  actions: Action[];
  help_anchor: string;
  help_url: string;
  details: Record<string, unknown>;
}

export class ApiError extends Error {
  info: ErrorInfo;
  status: number;
  constructor(info: ErrorInfo, status: number) {
    super(info.title);
    this.info = info;
    this.status = status;
  }
}

async function call<T>(method: string, path: string, body?: unknown, raw?: BodyInit): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (raw !== undefined) {
    init.body = raw;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  let r: Response;
  try {
    r = await fetch(path, init);
  } catch {
    throw new ApiError(
      {
        code: "server_unreachable",
        title: "The studio server does not answer",
        explanation: "The page cannot reach the PEFT Studio server. It may have been stopped, or the network is down. Trainings keep running.",
        actions: [{ label: "Start it again", fix_id: null, steps: ["Run `peftstudio app` (or `peftstudio serve`) and open the new link."] }],
        help_anchor: "",
        help_url: "studio",
        details: {},
      },
      0,
    );
  }
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    if (data && data.error) throw new ApiError(data.error as ErrorInfo, r.status);
    throw new ApiError(
      { code: "internal_error", title: "Something went wrong", explanation: `The server answered ${r.status}.`, actions: [], help_anchor: "internal-error", help_url: "errors#internal-error", details: {} },
      r.status,
    );
  }
  return data as T;
}

export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => call<T>("POST", path, body ?? {});
export const put = <T>(path: string, body: unknown) => call<T>("PUT", path, body);
export const del = <T>(path: string) => call<T>("DELETE", path);
export const postFile = <T>(path: string, file: Blob) => call<T>("POST", path, undefined, file);
export const upload = <T>(file: File) =>
  call<T>("POST", `/api/data/uploads?name=${encodeURIComponent(file.name)}`, undefined, file);

// ---- records (as the library's converter writes them)

export interface Range {
  min: number;
  expected?: number;
  max: number;
}

export interface Profile {
  id: string;
  title: string;
  description: string;
  examples: string[];
  estimate: {
    model: string;
    device: string;
    duration_seconds: Range;
    estimated_peak_bytes: number;
    available_bytes: number;
    fits: boolean;
    assumed_examples: number | null;
  };
}

export interface ModelOption {
  reference: string;
  title: string;
  fits: boolean;
  estimated_peak_bytes?: number;
  available_bytes?: number;
  device?: string;
  duration_seconds?: Range;
  warnings?: string[];
  problem?: string;
  builtin: boolean;
  about: string;
  kind?: "folder" | "gguf"; // a model on the server's disk (POST /api/models/local)
}

export interface SettingSpec {
  key: string;
  path: string | null;
  kind: "integer" | "number" | "boolean" | "choice" | "names" | string;
  label: string;
  help: string;
  unit: string;
  choices: string[];
  minimum: number | null;
  maximum: number | null;
  empty: string | null;
  term: string | null;
  glossary: string | null;
  main: boolean;
  planned: boolean;
  read_only: boolean;
  default: unknown;
}

export interface Setting {
  value: unknown;
  reason: string;
}

export interface Plan {
  model: string;
  model_title: string;
  profile: string;
  device: string;
  device_name: string;
  settings: Record<string, Setting>;
  memory: { estimated_peak_bytes: number; available_bytes: number; fits: boolean; [k: string]: unknown };
  estimates: Record<string, unknown>;
  alternatives: Alternative[];
  warnings: string[];
  stats: Record<string, unknown>;
  stats_assumed: boolean;
}

export interface Alternative {
  title: string;
  description: string;
  changes: Record<string, unknown>;
  memory_bytes: number;
  memory_delta: number;
  duration_delta: number;
  fits: boolean;
  model: string | null;
}

export interface Finding {
  code: string;
  severity: string;
  message: string;
  rows: number[];
  count: number;
  fix: string;
  fix_id: string | null;
}

export interface PreviewExample {
  row: number;
  tokens: number;
  trained_tokens: number;
  text: string;
  spans: { start: number; end: number; trained: boolean }[];
}

export interface DataCheck {
  ref: string;
  name: string;
  ok: boolean;
  fix_ids: string[];
  report: {
    format: string;
    encoding: string;
    rows: number;
    structure: { name: string; columns: Record<string, string>; confidence: number };
    stats: Record<string, unknown>;
    findings: Finding[];
  };
  preview: { examples: PreviewExample[]; structure: { name: string } } | null;
  fix?: { rows_in: number; rows_out: number; dropped: Record<string, number>; changed: Record<string, number> };
}

export interface Run {
  id: string;
  name: string;
  status: string;
  config: { profile: string; model: { reference: string }; data: { path: string }; training: Record<string, unknown> };
  created_at: number;
  elapsed_seconds: number;
  summary: Record<string, unknown> & { total_steps?: number | null; step?: number | null; steps?: number | null };
  error: ErrorInfo | null;
  loss_zones: { good_below: number; problem_above: number } | null;
}

export interface Term {
  term: string;
  definition: string;
  example: string;
  aliases: string[];
  anchor: string;
}
