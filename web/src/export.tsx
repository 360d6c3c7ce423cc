// Export: a tuned model as a Hugging Face folder, a GGUF file, an Ollama or LM Studio package, or the adapter
// alone; the quantization with each type's estimated size; progress; the Test Export verdict with its checks and
// a sample answer; notes on choices made; the commands for Ollama and LM Studio; the files to download (the
// studio may run on another computer) and, on this computer, the folder opened.
import { useEffect, useRef, useState } from "react";
import { ApiError, get, post, type ErrorInfo, type Run, type Schemas } from "./api";
import { useCopy } from "./clipboard";
import { bytes, num } from "./format";
import { Term } from "./glossary";

type ExportRequest = Schemas["ExportRequest"];

interface Options {
  ref: string;
  model: string;
  kinds: { kind: ExportRequest["kind"]; title: string; about: string }[];
  quants: { name: string; tradeoff: string; bits_per_weight: number; size_bytes: number }[];
  default_quant: string;
  adapter_size_bytes: number;
  hf_size_bytes: number;
  local: boolean;
}

interface Check { name: string; passed: boolean; figure: number | null; limit: number | null; detail: string }

interface Job {
  id: string;
  status: "running" | "done" | "failed";
  kind: string;
  progress: { stage: string; done: number; total: number; message: string; fraction: number };
  error: ErrorInfo | null;
  result: null | {
    kind: string; path: string; files: string[]; instructions: string; size_bytes: number; quant: string | null;
    notes: string[]; adapter_file: string | null;
    test: null | { passed: boolean; message: string; checks: Check[]; sample: string; seconds: number };
  };
  commands?: string[];
  file_sizes?: Record<string, number>;
}

function Copyable({ text, label }: { text: string; label: string }) {
  const { copied, copy } = useCopy(text);
  return (
    <li className="command"><code>{text}</code>
      <button type="button" className="small" onClick={copy} aria-label={copied ? "Copied" : `Copy ${label}`}>{copied ? "Copied" : "Copy"}</button></li>
  );
}

function Picker({ onError }: { onError: (e: unknown) => void }) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  useEffect(() => { get<{ runs: Run[] }>("/api/runs?status=completed").then((r) => setRuns(r.runs)).catch(onError); }, [onError]);
  return (
    <main aria-labelledby="export-title">
      <h1 id="export-title" tabIndex={-1}>Export</h1>
      <p className="lead">Take a finished training elsewhere: Hugging Face, Ollama, LM Studio or one GGUF file.</p>
      {runs === null ? <p>Loading…</p> : runs.length === 0 ? <p className="muted">No finished training yet.</p> : (
        <ul className="runs">{runs.map((r) => (
          <li key={r.id} className="run"><span className="run-name" dir="auto">{r.name || r.id}</span>
            <span className="muted">{r.config.model.reference} · {r.config.profile}</span>
            <a href={`#/export/${encodeURIComponent(r.id)}`}>Export</a></li>
        ))}</ul>
      )}
    </main>
  );
}

export function Export({ target, onError }: { target?: string; onError: (e: unknown, retry?: () => void) => void }) {
  if (!target) return <Picker onError={onError} />;
  return <Exporter target={target} onError={onError} />;
}

function Exporter({ target, onError }: { target: string; onError: (e: unknown, retry?: () => void) => void }) {
  const [options, setOptions] = useState<Options | null>(null);
  const [kind, setKind] = useState<ExportRequest["kind"]>("ollama");
  const [quant, setQuant] = useState("q4_k_m");
  const [adapterOnly, setAdapterOnly] = useState(false);
  const [test, setTest] = useState(true);
  const [name, setName] = useState("");
  const [job, setJob] = useState<Job | null>(null);
  const [opened, setOpened] = useState("");
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    get<Options>(`/api/exports/options?ref=${encodeURIComponent(target)}`).then((o) => { setOptions(o); setQuant(o.default_quant); }).catch(onError);
    return () => window.clearTimeout(timer.current);
  }, [target, onError]);

  const follow = (id: string) => {
    get<Job>(`/api/exports/${id}`).then((j) => {
      setJob(j);
      if (j.status === "running") timer.current = window.setTimeout(() => follow(id), 400);
      // short of disk space: the error's dialog offers the versions to clear, then Try again exports again
      else if (j.error?.code === "disk_full") onError(new ApiError(j.error, 507), start);
    }).catch(onError);
  };
  const start = async () => {
    setOpened("");
    try {
      const body: ExportRequest = { ref: target, kind, adapter_only: adapterOnly, test, name: name.trim() || null,
        quant: kind === "hf" || adapterOnly ? null : quant };
      const j = await post<Job>("/api/exports", body);
      setJob(j);
      follow(j.id);
    } catch (e) {
      onError(e, start);
    }
  };
  const openFolder = async () => {
    try { setOpened((await post<{ opened: string }>(`/api/exports/${job!.id}/open`)).opened); } catch (e) { onError(e); }
  };

  if (!options) return <main><h1 tabIndex={-1}>Export</h1><p>Loading…</p></main>;
  const quantized = kind !== "hf" && !adapterOnly;
  const running = job?.status === "running";
  const r = job?.result;
  return (
    <main aria-labelledby="export-title">
      <h1 id="export-title" tabIndex={-1}>Export</h1>
      <p className="lead">The tuned model on {options.model}, ready for the app you use. <a href={`#/playground/${encodeURIComponent(target)}`}>Try it in the playground first</a>.</p>
      <form className="card" onSubmit={(e) => { e.preventDefault(); start(); }}>
        <fieldset>
          <legend>Export as</legend>
          {options.kinds.map((k) => (
            <label key={k.kind} className="choice">
              <input type="radio" name="kind" value={k.kind} checked={kind === k.kind} aria-label={k.title} aria-describedby={`about-${k.kind}`}
                onChange={() => { setKind(k.kind); if (k.kind === "lmstudio") setAdapterOnly(false); }} />
              <span><strong>{k.title}</strong> <span className="muted" id={`about-${k.kind}`}>{k.about}</span></span>
            </label>
          ))}
        </fieldset>
        <label className="inline"><input type="checkbox" checked={adapterOnly} disabled={kind === "lmstudio"} onChange={(e) => setAdapterOnly(e.target.checked)} />
          The adapter alone ({bytes(options.adapter_size_bytes)}; used on top of the base model)</label>
        {quantized ? (
          <fieldset>
            <legend><Term word="quantization">Quantization</Term></legend>
            {options.quants.map((q) => (
              <label key={q.name} className="choice">
                <input type="radio" name="quant" value={q.name} checked={quant === q.name} aria-label={q.name} aria-describedby={`quant-${q.name}`} onChange={() => setQuant(q.name)} />
                <span><strong>{q.name}</strong> <span id={`quant-${q.name}`}>about {bytes(q.size_bytes)} <span className="muted">{q.tradeoff}</span></span></span>
              </label>
            ))}
          </fieldset>
        ) : <p className="muted">{kind === "hf" ? `Full weights, about ${bytes(adapterOnly ? options.adapter_size_bytes : options.hf_size_bytes)}: no quantization.` : `About ${bytes(options.adapter_size_bytes)}.`}</p>}
        <div className="inline-fields">
          <label>Name (optional) <input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} /></label>
          <label className="inline"><input type="checkbox" checked={test} onChange={(e) => setTest(e.target.checked)} /> Test Export (load it with independent loaders and compare)</label>
        </div>
        <button type="submit" className="primary" disabled={running}>Export</button>
      </form>
      {job && (
        <section className="card" aria-label="Export result" aria-busy={running}>
          <h2>{running ? "Exporting…" : job.status === "done" ? "Exported" : "The export failed"}</h2>
          {running && (<>
            <progress aria-label="Export progress" max={1} value={job.progress.fraction || undefined} />
            <p role="status">{job.progress.message || job.progress.stage}</p>
          </>)}
          {job.error && <p role="alert">{job.error.title}: {job.error.explanation}</p>}
          {r && (<>
            <p>{bytes(r.size_bytes)} in <code>{r.path}</code>{r.quant ? ` (${r.quant})` : ""}.</p>
            {r.notes.length > 0 && <ul aria-label="Notes" className="notes">{r.notes.map((n) => <li key={n}>{n}</li>)}</ul>}
            {r.test && (
              <div className={`verdict ${r.test.passed ? "passed" : "failed"}`}>
                <h3>Test Export {r.test.passed ? "passed" : "failed"}</h3>
                <p>{r.test.message}</p>
                <table>
                  <caption className="muted">Checks</caption>
                  <thead><tr><th scope="col">Check</th><th scope="col">Figure</th><th scope="col">Limit</th><th scope="col">Result</th></tr></thead>
                  <tbody>{r.test.checks.map((c) => (
                    <tr key={c.name}><td>{c.name}</td><td>{c.figure == null ? "–" : num(c.figure)}</td><td>{c.limit == null ? "–" : num(c.limit)}</td><td>{c.passed ? "passed" : "failed"}</td></tr>
                  ))}</tbody>
                </table>
                {r.test.sample && <><h4>Sample answer</h4><blockquote dir="auto">{r.test.sample}</blockquote></>}
              </div>
            )}
            {job.commands && job.commands.length > 0 && (<>
              <h3>{r.kind === "ollama" ? "Add it to Ollama" : "Add it to LM Studio"}</h3>
              <ul className="commands">{job.commands.map((c, i) => <Copyable key={c} text={c} label={`command ${i + 1}`} />)}</ul>
            </>)}
            <h3>Files</h3>
            <ul className="files">{r.files.map((f) => (
              <li key={f}><a href={`/api/exports/${job.id}/files/${f.split("/").map(encodeURIComponent).join("/")}`} download>Download {f}</a>
                <span className="muted"> {bytes(job.file_sizes?.[f])}</span></li>
            ))}</ul>
            {options.local && <button type="button" onClick={openFolder}>Open folder</button>}
            {opened && <p role="status">Opened {opened}.</p>}
          </>)}
        </section>
      )}
    </main>
  );
}
