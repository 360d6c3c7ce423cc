// The playground: the tuned model and its base model answer the same prompt side by side, streamed as they
// generate, with Stop; answers as markdown (code highlighted, a Copy button each); example prompts from the
// run's profile and its held-out data; generation settings under Advanced; the run's saved conversations,
// searchable; Back to the defaults restores the generation settings the server gave (the run's profile's
// temperature). A run trained on plain text gets a completion box: the model continues the text.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, get, post, type Run, type Schemas } from "./api";
import { num } from "./format";
import { Term } from "./glossary";
import { Markdown } from "./markdown";
import { postStream } from "./sse";

type Settings = Schemas["AskSettings"];

interface About {
  ref: string;
  run_id: string;
  version_id: string | null;
  model: string;
  profile: string;
  completion: boolean;
  examples: string[];
  settings: Required<Settings>;
}

interface AnswerRecord {
  text: string;
  tokens: number;
  seconds: number;
  first_token_seconds: number;
  model: string;
  stopped: boolean;
}

interface Exchange {
  id: number;
  prompt: string;
  tuned: AnswerRecord | null;
  base: AnswerRecord | null;
  time: number;
}

type Side = { text: string; answer: AnswerRecord | null; state: "idle" | "waiting" | "streaming" | "done" | "skipped" | "unasked" };
const EMPTY: Side = { text: "", answer: null, state: "idle" };

function Pane({ title, side, completion, prompt }: { title: string; side: Side; completion: boolean; prompt: string }) {
  const a = side.answer;
  return (
    <section className="card answer" aria-label={title} aria-busy={side.state === "streaming" || side.state === "waiting"}>
      <h2>{title}</h2>
      {side.state === "idle" && <p className="muted">Ask something to see the answer here.</p>}
      {side.state === "waiting" && <p className="muted">Waiting for the tuned answer to finish…</p>}
      {side.state === "skipped" && <p className="muted">Not asked: stopped before it began.</p>}
      {side.state === "unasked" && <p className="muted">Not asked this time.</p>}
      {side.text && (completion
        ? <p className="completion" dir="auto"><span className="muted">{prompt}</span>{side.text}</p>
        : <Markdown text={side.text} />)}
      {side.state === "streaming" && <p className="muted" aria-hidden="true">▍</p>}
      {a && (
        <p className="muted meta">
          {a.stopped && <span className="status paused">stopped</span>} {a.tokens} tokens · {num(a.tokens / Math.max(a.seconds, 1e-9))} tokens/s · first token after {num(a.first_token_seconds)} s
        </p>
      )}
    </section>
  );
}

function Picker({ onError }: { onError: (e: unknown) => void }) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  useEffect(() => { get<{ runs: Run[] }>("/api/runs?status=completed").then((r) => setRuns(r.runs)).catch(onError); }, [onError]);
  return (
    <main aria-labelledby="playground-title">
      <h1 id="playground-title" tabIndex={-1}>Playground</h1>
      <p className="lead">Try a finished training: its answers next to the model it started from.</p>
      {runs === null ? <p>Loading…</p> : runs.length === 0 ? <p className="muted">No finished training yet.</p> : (
        <ul className="runs">{runs.map((r) => (
          <li key={r.id} className="run"><span className="run-name" dir="auto">{r.name || r.id}</span>
            <span className="muted">{r.config.model.reference} · {r.config.profile}</span>
            <a href={`#/playground/${encodeURIComponent(r.id)}`}>Open in playground</a></li>
        ))}</ul>
      )}
    </main>
  );
}

export function Playground({ target, onError }: { target?: string; onError: (e: unknown) => void }) {
  if (!target) return <Picker onError={onError} />;
  return <Chat target={target} onError={onError} />;
}

function Chat({ target, onError }: { target: string; onError: (e: unknown) => void }) {
  const [about, setAbout] = useState<About | null>(null);
  const [prompt, setPrompt] = useState("");
  const [asked, setAsked] = useState("");
  const [settings, setSettings] = useState<Required<Settings> | null>(null);
  const [compareBase, setCompareBase] = useState(true);
  const [tuned, setTuned] = useState<Side>(EMPTY);
  const [base, setBase] = useState<Side>(EMPTY);
  const [generation, setGeneration] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [query, setQuery] = useState("");
  const [saved, setSaved] = useState<Exchange[]>([]);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    get<About>(`/api/playground/${encodeURIComponent(target)}`).then((a) => { setAbout(a); setSettings(a.settings); }).catch(onError);
    return () => abort.current?.abort();
  }, [target, onError]);
  const search = useCallback((q: string) => get<{ exchanges: Exchange[] }>(`/api/playground/${encodeURIComponent(target)}/history?q=${encodeURIComponent(q)}`)
    .then((r) => setSaved(r.exchanges)).catch(onError), [target, onError]);
  useEffect(() => { const t = setTimeout(() => search(query), 200); return () => clearTimeout(t); }, [query, search]);

  const ask = async () => {
    if (!prompt.trim() || !settings) return;
    const controller = new AbortController();
    abort.current = controller;
    setBusy(true);
    setAsked(prompt);
    setTuned({ text: "", answer: null, state: "streaming" });
    setBase(compareBase ? { text: "", answer: null, state: "waiting" } : EMPTY);
    const set = (which: string): typeof setTuned => (which === "tuned" ? setTuned : setBase);
    try {
      await postStream(`/api/playground/${encodeURIComponent(target)}/ask`, { prompt, compare_base: compareBase, settings }, (event, data) => {
        if (event === "start") setGeneration(data.id);
        else if (event === "token") set(data.which)((s) => ({ ...s, state: "streaming", text: s.text + data.text }));
        else if (event === "answer") {
          set(data.model)((s) => ({ ...s, answer: data, text: data.text, state: "done" }));
          if (data.model === "tuned" && compareBase) setBase((s) => ({ ...s, state: "streaming" }));
        } else if (event === "done") {
          if (compareBase && !data.base) setBase({ text: "", answer: null, state: "skipped" });
        } else if (event === "error") onError(new ApiError(data.error, 500));
      }, controller.signal);
      search(query);
    } catch (e) {
      onError(e);
      setTuned((s) => ({ ...s, state: s.state === "streaming" ? "done" : s.state }));
    } finally {
      setBusy(false);
      setGeneration(null);
    }
  };
  const stop = async () => {
    if (!generation) return;
    try { await post(`/api/playground/generations/${encodeURIComponent(generation)}/stop`); } catch (e) { onError(e); }
  };
  const show = (e: Exchange) => {
    setAsked(e.prompt);
    setPrompt(e.prompt);
    setTuned(e.tuned ? { text: e.tuned.text, answer: e.tuned, state: "done" } : EMPTY);
    setBase(e.base ? { text: e.base.text, answer: e.base, state: "done" } : { text: "", answer: null, state: "unasked" });
  };
  const setting = (key: keyof Settings, value: string | number) => setSettings((s) => (s ? { ...s, [key]: value } : s));

  if (!about || !settings) return <main><h1 tabIndex={-1}>Playground</h1><p>Loading…</p></main>;
  const completion = about.completion;
  return (
    <main aria-labelledby="playground-title" className="wide">
      <h1 id="playground-title" tabIndex={-1}>Playground</h1>
      <p className="lead">The tuned model and <Term word="base model">the model it started from</Term> ({about.model}) {completion ? "continue the same text" : "answer the same question"}, side by side. <a href={`#/export/${encodeURIComponent(target)}`}>Export it</a> when you like it.</p>
      <form className="card ask" onSubmit={(e) => { e.preventDefault(); ask(); }}>
        <label htmlFor="prompt">{completion ? "Text to continue" : "Your message"}</label>
        <textarea id="prompt" rows={completion ? 5 : 3} value={prompt} dir="auto" onChange={(e) => setPrompt(e.target.value)}
          onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); ask(); } }} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !prompt.trim()}>{completion ? "Continue" : "Ask"}</button>
          {busy && <button type="button" className="danger" onClick={stop} disabled={!generation}>Stop</button>}
          <label className="inline"><input type="checkbox" checked={compareBase} onChange={(e) => setCompareBase(e.target.checked)} /> Compare with the base model</label>
        </div>
        <div role="group" aria-label="Example prompts" className="examples">
          <span className="muted">Examples:</span>
          {about.examples.map((x) => <button key={x} type="button" className="small chip" dir="auto" onClick={() => setPrompt(x)}>{x.length > 70 ? `${x.slice(0, 67)}…` : x}</button>)}
        </div>
        <details>
          <summary>Advanced</summary>
          <div className="grid">
            <label>Temperature <input type="number" min={0} max={2} step={0.1} value={settings.temperature ?? 0.7} onChange={(e) => setting("temperature", Number(e.target.value))} /></label>
            <label>Top-p <input type="number" min={0.05} max={1} step={0.05} value={settings.top_p} onChange={(e) => setting("top_p", Number(e.target.value))} /></label>
            <label>Longest answer (tokens) <input type="number" min={1} max={2048} step={1} value={settings.max_new_tokens} onChange={(e) => setting("max_new_tokens", Number(e.target.value))} /></label>
            <label>Seed <input type="number" min={0} step={1} value={settings.seed} onChange={(e) => setting("seed", Number(e.target.value))} /></label>
            {!completion && <label className="full">System prompt <textarea rows={2} value={settings.system_prompt} onChange={(e) => setting("system_prompt", e.target.value)} /></label>}
          </div>
          <p className="muted">Temperature 0 always picks the most likely word: the same answer every time.</p>
          <button type="button" onClick={() => setSettings(about.settings)}>Back to the defaults</button>
        </details>
      </form>
      <div className="side-by-side">
        <Pane title="Tuned model" side={tuned} completion={completion} prompt={asked} />
        <Pane title="Base model" side={base} completion={completion} prompt={asked} />
      </div>
      <section className="card" aria-labelledby="saved-title">
        <h2 id="saved-title">Saved conversations</h2>
        <label htmlFor="saved-search">Search conversations</label>
        <input id="saved-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        {saved.length === 0 ? <p className="muted">{query ? "Nothing matches." : "Nothing asked yet."}</p> : (
          <ul className="saved">{saved.map((e) => (
            <li key={e.id}>
              <button type="button" className="link" dir="auto" onClick={() => show(e)}>{e.prompt.length > 90 ? `${e.prompt.slice(0, 87)}…` : e.prompt}</button>
              <span className="muted"> {new Date(e.time * 1000).toLocaleString()}{e.tuned?.stopped ? " · stopped" : ""}</span>
            </li>
          ))}</ul>
        )}
      </section>
    </main>
  );
}
