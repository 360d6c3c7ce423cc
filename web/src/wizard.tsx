// The guided wizard: welcome, use case (with estimates for this machine), model (fits or not, and why),
// data (format, structure, findings with rows and one-click fixes, preview as the model sees it),
// settings (rendered from the one settings schema, each value with its reason; a change re-plans at once),
// review (time, GPU-hours, energy, cost at your rate, CO2, alternatives, save as preset) and start. The model
// may also be a folder or a .gguf file on the server, named by its path and checked there. Escape goes back a
// step (when no dialog is open), Ctrl+Enter is Next.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import {
  ApiError, get, post, upload, type DataCheck, type ModelOption, type Plan, type PreviewExample, type Profile,
  type Run, type SettingSpec, type PlanRequest, type CheckRequest, type DataFixRequest, type StartRequest,
  type PresetRequest, type LocalModelRequest,
} from "./api";
import { bytes, duration, num, range } from "./format";
import { Term } from "./glossary";

const STEPS = ["Welcome", "Use case", "Model", "Data", "Settings", "Review"];

// the wizard opened filled in: from a preset (#/new?preset=NAME) or a finished run (#/new?run=ID)
export type FillFrom = { kind: "preset" | "run"; id: string };

export function fillFrom(hash: string): FillFrom | undefined {
  const params = new URLSearchParams(hash.split("?")[1] ?? "");
  const preset = params.get("preset"), run = params.get("run");
  if (preset) return { kind: "preset", id: preset };
  if (run) return { kind: "run", id: run };
  return undefined;
}

interface WizardForm {
  profile: string;
  model: string;
  data: string | null;
  overrides: Record<string, unknown>;
  name: string;
  notes: string[];
}

interface Files {
  samples: { ref: string; name: string }[];
  files: { ref: string; name: string }[];
  max_upload_bytes: number;
}

export function Wizard({ from, onStarted, onError, onCancel }: {
  from?: FillFrom;
  onStarted: (run: Run) => void;
  onError: (e: unknown, retry?: () => void) => void;
  onCancel: () => void;
}) {
  const [step, setStep] = useState(0);
  const [profiles, setProfiles] = useState<Profile[] | null>(null);
  const [profile, setProfile] = useState("");
  const [models, setModels] = useState<ModelOption[] | null>(null);
  const [model, setModel] = useState("");
  const [files, setFiles] = useState<Files | null>(null);
  const [check, setCheck] = useState<DataCheck | null>(null);
  const [dataBusy, setDataBusy] = useState("");
  const [schema, setSchema] = useState<SettingSpec[]>([]);
  const [overrides, setOverrides] = useState<Record<string, unknown>>({});
  const [plan, setPlan] = useState<Plan | null>(null);
  const [problem, setProblem] = useState("");
  const [rate, setRate] = useState("");
  const [currency, setCurrency] = useState("USD");
  const [name, setName] = useState("");
  const [saved, setSaved] = useState("");
  const [starting, setStarting] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const planAsked = useRef(0);
  const [filled, setFilled] = useState<{ what: string; notes: string[] } | null>(null);
  const [pendingData, setPendingData] = useState<string | null>(null);
  const [localPath, setLocalPath] = useState("");
  const [local, setLocal] = useState<ModelOption | null>(null);
  const [localBusy, setLocalBusy] = useState(false);
  const [localProblem, setLocalProblem] = useState("");

  useEffect(() => {
    if (!from) return;
    const url = from.kind === "preset" ? `/api/presets/one?name=${encodeURIComponent(from.id)}` : `/api/runs/${encodeURIComponent(from.id)}/clone`;
    get<{ wizard: WizardForm }>(url).then(({ wizard: f }) => {
      setProfile(f.profile);
      setModel(f.model);
      setOverrides(f.overrides);
      setName(f.name);
      setFilled({ what: from.kind === "preset" ? `the preset “${from.id}”` : `the run “${f.name || from.id}”`, notes: f.notes });
      if (f.data) setPendingData(f.data);
      setStep(f.data ? 5 : 3);
    }).catch(onError);
  }, [from, onError]);

  useEffect(() => {
    get<{ profiles: Profile[] }>("/api/profiles").then((r) => setProfiles(r.profiles)).catch(onError);
    get<Files>("/api/data/files").then(setFiles).catch(onError);
    get<{ settings: SettingSpec[] }>("/api/settings").then((r) => setSchema(r.settings)).catch(onError);
  }, [onError]);
  useEffect(() => heading.current?.focus(), [step]);
  useEffect(() => {
    if (!profile) return;
    setModels(null);
    get<{ models: ModelOption[] }>(`/api/models?profile=${encodeURIComponent(profile)}`)
      .then((r) => {
        setModels(r.models);
        if (!model) setModel(r.models.find((m) => m.fits)?.reference ?? r.models[0]?.reference ?? "");
        // a model of the server's disk (chosen before, or from a preset or a run): checked again for this use case
        else if (!r.models.some((m) => m.reference === model) && /^(\/|~|[A-Za-z]:[\\/])/.test(model)) checkLocal(model, true);
      })
      .catch(onError);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [profile]);

  // a model folder or .gguf file on the server: the server checks the path and plans it as it plans the others;
  // a model checked again (`again`: from a preset or a run) keeps the settings it came with
  const checkLocal = async (path: string, again = false) => {
    if (!path.trim()) return;
    setLocalBusy(true);
    setLocalProblem("");
    try {
      const option = await post<ModelOption>("/api/models/local", { path, profile } satisfies LocalModelRequest);
      setLocal(option);
      setLocalPath(path);
      setModel(option.reference);
      if (option.reference !== model && !again) setOverrides({});
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) setLocalProblem(`${e.info.title}: ${e.info.explanation}`);
      else onError(e);
    } finally {
      setLocalBusy(false);
    }
  };

  const request = useCallback((): PlanRequest => ({
    profile, model, data: check?.ref ?? null, overrides,
    electricity_rate: rate ? Number(rate) : null, currency,
  }), [profile, model, check, overrides, rate, currency]);

  // re-plan on every change (the planner takes milliseconds; a short pause lets typing finish)
  useEffect(() => {
    if (!profile || !model) return;
    const asked = ++planAsked.current;
    const t = window.setTimeout(() => {
      post<Plan>("/api/plan", request())
        .then((p) => {
          if (asked !== planAsked.current) return; // an answer to an older question: a newer one is coming
          setPlan(p);
          setProblem("");
        })
        .catch((e) => {
          if (asked !== planAsked.current) return;
          if (e instanceof ApiError && e.info.code === "config_invalid") setProblem(e.info.explanation);
          else onError(e);
        });
    }, 150);
    return () => window.clearTimeout(t);
  }, [request, profile, model, onError]);

  const runCheck = async (ref: string, fixes?: string[]) => {
    setDataBusy(fixes ? "Applying the fix…" : "Checking the data…");
    try {
      const body: CheckRequest = { data: ref, profile, model, preview_rows: 3, max_tokens: (plan?.settings.sequence_length?.value as number | undefined) ?? null };
      const r = fixes ? await post<DataCheck>("/api/data/fix", { ...body, fixes } satisfies DataFixRequest) : await post<DataCheck>("/api/data/check", body);
      setCheck(r);
    } catch (e) {
      onError(e, () => runCheck(ref, fixes));
    } finally {
      setDataBusy("");
    }
  };

  useEffect(() => {
    if (!pendingData || !profile || !model) return;
    setPendingData(null);
    runCheck(pendingData);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pendingData, profile, model]);

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    if (files && file.size > files.max_upload_bytes) {
      onError(new ApiError({
        code: "upload_too_large", title: "The file is too large to upload",
        explanation: `The file is ${bytes(file.size)}; this studio takes up to ${bytes(files.max_upload_bytes)}.`,
        actions: [], help_anchor: "upload-too-large", help_url: "errors#upload-too-large", details: {},
      }, 413));
      return;
    }
    setDataBusy(`Uploading ${file.name}…`);
    try {
      const up = await upload<{ ref: string }>(file);
      await runCheck(up.ref);
    } catch (e) {
      onError(e);
      setDataBusy("");
    }
  };

  const start = async () => {
    setStarting(true);
    try {
      onStarted(await post<Run>("/api/runs", { ...request(), name: name || `${profileTitle(profiles, profile)} · ${check?.name ?? ""}` } satisfies StartRequest));
    } catch (e) {
      onError(e, start);
    } finally {
      setStarting(false);
    }
  };

  const savePreset = async () => {
    try {
      await post("/api/presets", { ...request(), name: name || "My preset", replace: true } satisfies PresetRequest);
      setSaved(`Saved as the preset “${name || "My preset"}”.`);
    } catch (e) {
      onError(e);
    }
  };

  const canNext = [true, !!profile, !!model, !!check && check.report.rows > 0 && !dataBusy, !problem && !!plan, false][step];

  // Escape is Back and Ctrl+Enter is Next, as the buttons are (not on the first step's Cancel or the review's
  // Start training); a dialog open over the wizard keeps its Escape
  const keys = useRef({ step, canNext });
  keys.current = { step, canNext };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || document.querySelector("[role=dialog]")) return;
      const { step: at, canNext: can } = keys.current;
      if (e.key === "Escape" && at > 0) {
        e.preventDefault();
        setStep(at - 1);
      } else if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && at < STEPS.length - 1) {
        e.preventDefault();
        if (can) setStep(at + 1);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  return (
    <main aria-labelledby="wizard-title">
      <nav aria-label="Wizard steps">
        <ol className="stepper">
          {STEPS.map((s, i) => (
            <li key={s} aria-current={i === step ? "step" : undefined} className={i < step ? "done" : ""}>{s}</li>
          ))}
        </ol>
      </nav>
      <h1 id="wizard-title" tabIndex={-1} ref={heading}>{STEPS[step]}</h1>
      {filled && (
        <div role="status" className="note">
          <p>Filled in from {filled.what}: every setting as it was saved. Check them, then start.</p>
          {filled.notes.map((n) => <p key={n} className="muted">{n}</p>)}
        </div>
      )}

      {step === 0 && (
        <section>
          <p className="lead">PEFT Studio teaches an existing language model a new skill from your examples, with <Term word="LoRA" />: a small add-on file instead of a new model.</p>
          <p>Five short steps: what it should learn, which model, your data, the settings (chosen for you, with reasons) and a review with time and cost before anything runs.</p>
        </section>
      )}

      {step === 1 && (
        <fieldset className="choices">
          <legend>What should the model learn?</legend>
          {profiles === null ? <p>Estimating for this computer…</p> : profiles.map((p) => (
            <label key={p.id} className={`choice ${profile === p.id ? "chosen" : ""}`}>
              <input type="radio" name="profile" value={p.id} checked={profile === p.id} onChange={() => { setProfile(p.id); setOverrides({}); }} />
              <span className="choice-title">{p.title}</span>
              <span>{p.description}</span>
              <span className="muted">e.g. {p.examples.slice(0, 2).join("; ")}</span>
              <span className="muted">{p.estimate.model} on {p.estimate.device}: {range(p.estimate.duration_seconds, duration)}
                {p.estimate.assumed_examples ? ` for ${p.estimate.assumed_examples} examples` : ""} · {p.estimate.fits ? "fits" : "does not fit"}</span>
            </label>
          ))}
        </fieldset>
      )}

      {step === 2 && (
        <fieldset className="choices">
          <legend>Which <Term word="base model" /> to start from?</legend>
          {models === null ? <p>Checking which models fit…</p> : [...models, ...(local && !models.some((m) => m.reference === local.reference) ? [local] : [])].map((m) => (
            <label key={m.reference} className={`choice ${model === m.reference ? "chosen" : ""}`}>
              <input type="radio" name="model" value={m.reference} checked={model === m.reference} onChange={() => { setModel(m.reference); setOverrides({}); }} />
              <span className="choice-title">{m.title} <span className={m.fits ? "badge good" : "badge bad"}>{m.fits ? "fits" : "does not fit"}</span></span>
              {m.about && <span>{m.about}</span>}
              {m.problem ? <span className="muted">{m.problem}</span> : (
                <span className="muted">needs about {bytes(m.estimated_peak_bytes)} of {bytes(m.available_bytes)} on {m.device} · {range(m.duration_seconds, duration)}</span>
              )}
              {m.warnings?.map((w) => <span key={w} className="muted">{w}</span>)}
              {!m.builtin && m === local && <span className="muted" dir="auto">{m.reference}</span>}
            </label>
          ))}
          <form className="local-model" onSubmit={(e) => { e.preventDefault(); checkLocal(localPath); }}>
            <label htmlFor="model-path">Or a model on the server: the full path of a model folder (with config.json) or of a .gguf file</label>
            <div className="inline-fields">
              <input id="model-path" type="text" value={localPath} dir="auto" spellCheck={false} autoComplete="off"
                placeholder="/home/you/models/my-model" maxLength={4096}
                aria-describedby={localProblem ? "model-path-problem" : undefined}
                onChange={(e) => { setLocalPath(e.target.value); setLocalProblem(""); }} />
              <button type="submit" disabled={localBusy || !localPath.trim()}>{localBusy ? "Checking…" : "Use this model"}</button>
            </div>
            {localProblem && <p id="model-path-problem" className="problem" role="alert" dir="auto">{localProblem}</p>}
          </form>
        </fieldset>
      )}

      {step === 3 && (
        <section aria-label="Training data">
          <div className="data-pick">
            <label>Use a sample{" "}
              <select aria-label="Sample data" value={check?.ref.startsWith("sample:") ? check.ref : ""} onChange={(e) => e.target.value && runCheck(e.target.value)}>
                <option value="">Choose a sample…</option>
                {files?.samples.map((s) => <option key={s.ref} value={s.ref}>{s.name}</option>)}
              </select>
            </label>
            <label>or upload a file <input type="file" accept=".jsonl,.json,.csv,.tsv,.txt,.parquet" onChange={(e) => onFile(e.target.files?.[0])} /></label>
            {files && files.files.length > 0 && (
              <label>or a file from the server{" "}
                <select aria-label="Server data file" value="" onChange={(e) => e.target.value && runCheck(e.target.value)}>
                  <option value="">Choose…</option>
                  {files.files.map((f) => <option key={f.ref} value={f.ref}>{f.name}</option>)}
                </select>
              </label>
            )}
          </div>
          {dataBusy && <p role="status">{dataBusy}</p>}
          {check && <DataReport check={check} onFix={(ids) => runCheck(check.ref, ids)} busy={!!dataBusy} />}
        </section>
      )}

      {step === 4 && plan && (
        <SettingsForm schema={schema} plan={plan} overrides={overrides} problem={problem}
          onChange={(key, value) => setOverrides((o) => ({ ...o, [key]: value }))}
          onReset={() => setOverrides({})} />
      )}

      {step === 5 && plan && (
        <Review plan={plan} rate={rate} setRate={setRate} currency={currency} setCurrency={setCurrency}
          onAlternative={(changes) => setOverrides((o) => ({ ...o, ...changes }))}
          name={name} setName={setName} onSave={savePreset} saved={saved} />
      )}

      <div className="actions wizard-nav">
        <button type="button" onClick={() => (step === 0 ? onCancel() : setStep(step - 1))}>{step === 0 ? "Cancel" : "Back"}</button>
        {step < STEPS.length - 1
          ? <button type="button" className="primary" disabled={!canNext} onClick={() => setStep(step + 1)}>{step === 0 ? "Start" : "Next"}</button>
          : <button type="button" className="primary" disabled={starting || !!problem || !plan || !check || !!dataBusy} onClick={start}>{starting ? "Starting…" : "Start training"}</button>}
      </div>
    </main>
  );
}

function profileTitle(profiles: Profile[] | null, id: string) {
  return profiles?.find((p) => p.id === id)?.title ?? id;
}

function DataReport({ check, onFix, busy }: { check: DataCheck; onFix: (ids: string[]) => void; busy: boolean }) {
  const r = check.report;
  const cols = Object.entries(r.structure.columns).map(([k, v]) => `${k}=${v}`).join(", ");
  const fixable = r.findings.filter((f) => f.fix_id);
  return (
    <div className="data-report">
      <p data-testid="data-summary"><strong dir="auto">{check.name}</strong>: {r.format.toUpperCase()}, {r.encoding}, {r.rows} rows · <Term word="structure">structure</Term> {r.structure.name}{cols ? ` (${cols})` : ""}</p>
      {check.fix && <p role="status" className="good">Cleaned copy: kept {check.fix.rows_out} of {check.fix.rows_in} rows. Your original file is unchanged.</p>}
      <h2>Findings</h2>
      {r.findings.length === 0 ? <p className="good">No problems found.</p> : (
        <ul className="findings">
          {r.findings.map((f) => (
            <li key={f.code} className={`finding ${f.severity}`}>
              <span className="badge">{f.severity}</span> <span dir="auto">{f.message}</span>
              {f.rows.length > 0 && <span className="muted"> Rows {f.rows.slice(0, 10).join(", ")}{f.count > f.rows.length ? ` and ${f.count - f.rows.length} more` : ""}.</span>}
              <span className="muted"> {f.fix}</span>
              {f.fix_id && <button type="button" disabled={busy} onClick={() => onFix([f.fix_id!])}>Fix: {f.fix_id.replace(/_/g, " ")}</button>}
            </li>
          ))}
        </ul>
      )}
      {fixable.length > 1 && <button type="button" disabled={busy} onClick={() => onFix(fixable.map((f) => f.fix_id!))}>Apply all {fixable.length} fixes</button>}
      {check.preview && (
        <>
          <h2>Preview: what the model sees</h2>
          <p className="muted">Highlighted text is what the model learns to write; the rest is context (<Term word="masking">masked</Term>).</p>
          {check.preview.examples.map((ex) => <Example key={ex.row} ex={ex} />)}
        </>
      )}
    </div>
  );
}

function Example({ ex }: { ex: PreviewExample }) {
  return (
    <figure className="example">
      <figcaption className="muted">Row {ex.row}: {ex.tokens} <Term word="token">tokens</Term>, {ex.trained_tokens} trained</figcaption>
      <pre dir="auto">{ex.spans.map((s, i) => s.trained
        ? <mark key={i}>{ex.text.slice(s.start, s.end)}</mark>
        : <span key={i}>{ex.text.slice(s.start, s.end)}</span>)}</pre>
    </figure>
  );
}

function SettingsForm({ schema, plan, overrides, problem, onChange, onReset }: {
  schema: SettingSpec[]; plan: Plan; overrides: Record<string, unknown>; problem: string;
  onChange: (key: string, value: unknown) => void; onReset: () => void;
}) {
  const shown = schema.filter((s) => plan.settings[s.key]);
  const row = (s: SettingSpec) => <SettingRow key={s.key} spec={s} value={s.key in overrides ? overrides[s.key] : plan.settings[s.key].value}
    reason={plan.settings[s.key].reason} changed={s.key in overrides} onChange={(v) => onChange(s.key, v)} />;
  return (
    <section aria-label="Settings">
      <p>Every value was chosen for your model, data and computer; the reason is under each. Change one and the plan is worked out again at once.</p>
      {problem && <p className="problem" role="alert">{problem}</p>}
      <div className="settings">{shown.filter((s) => s.main).map(row)}</div>
      <details>
        <summary>Advanced settings</summary>
        <div className="settings">{shown.filter((s) => !s.main).map(row)}</div>
      </details>
      {Object.keys(overrides).length > 0 && <button type="button" onClick={onReset}>Back to the smart defaults</button>}
    </section>
  );
}

function SettingRow({ spec, value, reason, changed, onChange }: {
  spec: SettingSpec; value: unknown; reason: string; changed: boolean; onChange: (v: unknown) => void;
}) {
  const id = `setting-${spec.key}`;
  const [text, setText] = useState(value == null ? "" : String(value));
  useEffect(() => setText(value == null ? "" : String(value)), [value]);
  let input: ReactNode;
  if (spec.read_only) {
    input = <output id={id}>{value == null ? "–" : String(value)}</output>;
  } else if (spec.kind === "boolean") {
    input = <input id={id} type="checkbox" checked={!!value} onChange={(e) => onChange(e.target.checked)} />;
  } else if (spec.kind === "choice") {
    input = (
      <select id={id} value={value == null ? "" : String(value)} onChange={(e) => onChange(e.target.value)}>
        {spec.choices.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
    );
  } else {
    const numeric = spec.kind === "integer" || spec.kind === "number";
    input = (
      <input id={id} type={numeric ? "number" : "text"} inputMode={numeric ? "decimal" : undefined}
        step={spec.kind === "integer" ? 1 : "any"} min={spec.minimum ?? undefined} max={spec.maximum ?? undefined}
        value={text} placeholder={spec.empty ?? undefined}
        onChange={(e) => {
          setText(e.target.value);
          const t = e.target.value.trim();
          onChange(t === "" ? null : numeric && !isNaN(Number(t)) ? Number(t) : t);
        }} />
    );
  }
  return (
    <div className={`setting ${changed ? "changed" : ""}`}>
      <span className="setting-label">
        <label htmlFor={id}>{spec.label}{spec.unit ? ` (${spec.unit})` : ""}</label>
        {spec.term ? <Term word={spec.term} label={`What is ${spec.term}?`}>ⓘ</Term> : null}
      </span>
      {input}
      <p className="reason muted">{changed ? "Your choice." : reason}</p>
    </div>
  );
}

function Review({ plan, rate, setRate, currency, setCurrency, onAlternative, name, setName, onSave, saved }: {
  plan: Plan; rate: string; setRate: (v: string) => void; currency: string; setCurrency: (v: string) => void;
  onAlternative: (changes: Record<string, unknown>) => void; name: string; setName: (v: string) => void;
  onSave: () => void; saved: string;
}) {
  const e = plan.estimates as Record<string, { min: number; max: number } | number | string>;
  const r = (k: string) => e[k] as { min: number; max: number } | undefined;
  return (
    <section aria-label="Review">
      <dl className="review">
        <dt>Model</dt><dd>{plan.model_title} on {plan.device_name}</dd>
        <dt>Time</dt><dd data-testid="review-time">{range(r("duration_seconds"), duration)}
          {e.speed_basis ? <span className="muted"> · at {String(e.speed_basis)}</span> : null}</dd>
        <dt><Term word="GPU-hours">GPU-hours</Term></dt><dd>{range(r("gpu_hours"), (v) => num(v, 2))}</dd>
        <dt>Energy</dt><dd>{range(r("energy_kwh"), (v) => `${num(v, 2)} kWh`)}</dd>
        <dt>Electricity cost</dt><dd>{range(r("electricity_cost"), (v) => `${v < 0.01 ? "under 0.01" : num(v, 2)} ${String(e.currency ?? currency)}`)}</dd>
        <dt><Term word="CO2">CO₂</Term></dt><dd>{range(r("co2_kg"), (v) => `${num(v, 2)} kg`)}</dd>
        <dt>Memory</dt><dd>{bytes(plan.memory.estimated_peak_bytes)} of {bytes(plan.memory.available_bytes)} · {plan.memory.fits ? "fits" : "does not fit"}</dd>
      </dl>
      <div className="inline-fields">
        <label>Your electricity price per kWh <input type="number" min={0} step="any" value={rate} placeholder={String(e.electricity_rate ?? "")} onChange={(ev) => setRate(ev.target.value)} /></label>
        <label>Currency <input type="text" value={currency} maxLength={12} onChange={(ev) => setCurrency(ev.target.value)} /></label>
      </div>
      {plan.warnings.length > 0 && <ul className="warnings">{plan.warnings.map((w) => <li key={w}>{w}</li>)}</ul>}
      {plan.alternatives.length > 0 && (
        <>
          <h2>Faster or leaner</h2>
          <ul className="alternatives">
            {plan.alternatives.map((a) => (
              <li key={a.title}>
                <strong>{a.title}</strong>: {a.description}{" "}
                {!a.model && <button type="button" onClick={() => onAlternative(a.changes)}>Use this</button>}
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="inline-fields">
        <label>Name <input type="text" value={name} maxLength={200} dir="auto" onChange={(ev) => setName(ev.target.value)} placeholder="e.g. Pirate support bot" /></label>
        <button type="button" onClick={onSave}>Save as preset</button>
      </div>
      {saved && <p role="status" className="good">{saved}</p>}
    </section>
  );
}
