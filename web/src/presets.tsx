// Presets: the library (search, filters by use case, model and tag), open one in the wizard, download it as a
// shareable JSON file, delete it; save a finished run's settings; import a file by choosing it or dropping it
// here: the server checks it and lists what it would change for this machine before anything is stored.
import { useCallback, useEffect, useState, type DragEvent } from "react";
import { ApiError, del, get, post, postFile, type ErrorInfo, type Run } from "./api";
import { bytes } from "./format";

interface Entry {
  name: string;
  profile: string;
  model: string;
  tags: string[];
  notes: string;
  created_at: number;
  updated_at: number;
  dataset_path: string | null;
}

interface Library {
  presets: Entry[];
  filters: { profiles: string[]; models: string[]; tags: string[] };
  max_file_bytes: number;
}

interface Adjustment {
  setting: string;
  label: string;
  old: unknown;
  new: unknown;
  reason: string;
}

interface Checked {
  preset: { name: string; config: { profile: string; model: { reference: string } } };
  adjustments: Adjustment[];
  notes: string[];
  replaced: boolean;
}

export function value(v: unknown): string {
  if (v == null) return "none";
  if (typeof v === "boolean") return v ? "on" : "off";
  if (Array.isArray(v)) return v.map(value).join(", ") || "none";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

const when = (t: number) => new Date(t * 1000).toLocaleString();
const q = (name: string) => `name=${encodeURIComponent(name)}`;

export function Presets({ onError, onOpen }: { onError: (e: unknown) => void; onOpen: (name: string) => void }) {
  const [library, setLibrary] = useState<Library | null>(null);
  const [search, setSearch] = useState("");
  const [profile, setProfile] = useState("");
  const [model, setModel] = useState("");
  const [tag, setTag] = useState("");
  const [note, setNote] = useState("");
  const [confirm, setConfirm] = useState("");

  const load = useCallback(() => {
    const params = new URLSearchParams();
    if (search.trim()) params.set("search", search.trim());
    if (profile) params.set("profile", profile);
    if (model) params.set("model", model);
    if (tag) params.set("tag", tag);
    return get<Library>(`/api/presets?${params}`).then(setLibrary).catch(onError);
  }, [search, profile, model, tag, onError]);
  useEffect(() => {
    const t = window.setTimeout(load, 150); // typing in the search box: ask once it pauses
    return () => window.clearTimeout(t);
  }, [load]);

  const remove = async (name: string) => {
    try {
      await del(`/api/presets?${q(name)}`);
      setNote(`Deleted the preset “${name}”.`);
      setConfirm("");
      await load();
    } catch (e) {
      onError(e);
    }
  };

  const filtered = !!(search.trim() || profile || model || tag);
  return (
    <main aria-labelledby="presets-title">
      <h1 id="presets-title" tabIndex={-1}>Presets</h1>
      <p className="lead">Settings you saved to use again or to share. A preset from someone else is checked and fitted to this computer before it is added.</p>
      {note && <p role="status" className="note">{note}</p>}
      <section className="card" aria-label="Find a preset">
        <div className="filters">
          <label>Search <input type="search" value={search} maxLength={200} dir="auto" onChange={(e) => setSearch(e.target.value)} placeholder="name, notes, tag, model…" /></label>
          <Filter label="Use case" value={profile} set={setProfile} options={library?.filters.profiles ?? []} />
          <Filter label="Model" value={model} set={setModel} options={library?.filters.models ?? []} />
          <Filter label="Tag" value={tag} set={setTag} options={library?.filters.tags ?? []} />
          {filtered && <button type="button" onClick={() => { setSearch(""); setProfile(""); setModel(""); setTag(""); }}>Show all</button>}
        </div>
      </section>
      {library === null ? <p>Loading…</p> : library.presets.length === 0 ? (
        <p className="muted">{filtered ? "No preset matches." : "No presets yet: save one from the wizard's review, from a finished run below, or import a file."}</p>
      ) : (
        <ul className="plain-list" aria-label="Saved presets">
          {library.presets.map((p) => (
            <li key={p.name} className="card" aria-label={p.name}>
              <h2 dir="auto">{p.name}</h2>
              <p className="muted">{p.profile} · {p.model}{p.tags.length > 0 && <> · tags: {p.tags.join(", ")}</>} · saved {when(p.updated_at)}</p>
              {p.notes && <p dir="auto">{p.notes}</p>}
              <div className="actions">
                <button type="button" className="primary" onClick={() => onOpen(p.name)}>Open in the wizard</button>
                <a className="button" href={`/api/presets/download?${q(p.name)}`} download>Download</a>
                <button type="button" className="danger" onClick={() => setConfirm(p.name)}>Delete…</button>
              </div>
              {confirm === p.name && (
                <div role="group" aria-label={`Delete ${p.name}?`} className="confirm">
                  <p>Delete the preset “{p.name}”? Runs made with it are not affected.</p>
                  <button type="button" className="danger" onClick={() => remove(p.name)}>Delete it</button>
                  <button type="button" onClick={() => setConfirm("")}>Keep it</button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      <FromRun onSaved={(name) => { setNote(`Saved the preset “${name}”.`); load(); }} onError={onError} />
      <Import maxBytes={library?.max_file_bytes ?? 1 << 20} onImported={(name) => { setNote(`Imported the preset “${name}”.`); load(); }} onOpen={onOpen} />
    </main>
  );
}

function Filter({ label, value, set, options }: { label: string; value: string; set: (v: string) => void; options: string[] }) {
  return (
    <label>{label}{" "}
      <select value={value} onChange={(e) => set(e.target.value)}>
        <option value="">All</option>
        {options.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    </label>
  );
}

function FromRun({ onSaved, onError }: { onSaved: (name: string) => void; onError: (e: unknown) => void }) {
  const [runs, setRuns] = useState<Run[]>([]);
  const [run, setRun] = useState("");
  const [name, setName] = useState("");
  const [tags, setTags] = useState("");
  useEffect(() => {
    get<{ runs: Run[] }>("/api/runs?status=completed").then((r) => setRuns(r.runs)).catch(onError);
  }, [onError]);
  if (runs.length === 0) return null;
  const save = async () => {
    const chosen = run || runs[0].id;
    const title = name.trim() || runs.find((r) => r.id === chosen)?.name || "My preset";
    try {
      await post("/api/presets/from-run", { run_id: chosen, name: title, tags: tags.split(",").map((t) => t.trim()).filter(Boolean) });
      setName("");
      setTags("");
      onSaved(title);
    } catch (e) {
      onError(e);
    }
  };
  return (
    <section className="card" aria-labelledby="from-run-title">
      <h2 id="from-run-title">Save a finished run as a preset</h2>
      <div className="inline-fields">
        <label>Run{" "}
          <select value={run || runs[0].id} onChange={(e) => setRun(e.target.value)}>
            {runs.map((r) => <option key={r.id} value={r.id}>{r.name} ({r.config.model.reference}, {new Date(r.created_at * 1000).toLocaleDateString()})</option>)}
          </select>
        </label>
        <label>Preset name <input type="text" value={name} maxLength={200} dir="auto" onChange={(e) => setName(e.target.value)} placeholder="the run's name" /></label>
        <label>Tags <input type="text" value={tags} maxLength={400} onChange={(e) => setTags(e.target.value)} placeholder="comma, separated" /></label>
        <button type="button" onClick={save}>Save as preset</button>
      </div>
    </section>
  );
}

function Import({ maxBytes, onImported, onOpen }: { maxBytes: number; onImported: (name: string) => void; onOpen: (name: string) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [checked, setChecked] = useState<Checked | null>(null);
  const [name, setName] = useState("");
  const [replace, setReplace] = useState(false);
  const [problem, setProblem] = useState<ErrorInfo | null>(null);
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState("");

  const plain = (e: unknown) => setProblem(e instanceof ApiError ? e.info : { code: "internal_error", title: "Something went wrong", explanation: String(e), actions: [], help_anchor: "", help_url: "", details: {} });
  const check = async (f: File | undefined, as?: string) => {
    if (!f) return;
    setProblem(null);
    setChecked(null);
    setDone("");
    setFile(f);
    if (f.size > maxBytes) {
      setProblem({ code: "config_invalid", title: "This is not a preset file", explanation: `${f.name} is ${bytes(f.size)}; a preset file is at most ${bytes(maxBytes)} (a real one is a few KB). Nothing was imported.`, actions: [], help_anchor: "", help_url: "", details: {} });
      return;
    }
    setBusy(true);
    try {
      const r = await postFile<Checked>(`/api/presets/import/check${as ? `?${q(as)}` : ""}`, f);
      setChecked(r);
      setName(r.preset.name);
      setReplace(false);
    } catch (e) {
      plain(e);
    } finally {
      setBusy(false);
    }
  };
  const apply = async () => {
    if (!file || !checked) return;
    setBusy(true);
    try {
      const params = new URLSearchParams({ name: name.trim() || checked.preset.name });
      if (replace) params.set("replace", "true");
      const r = await postFile<Checked>(`/api/presets/import?${params}`, file);
      setChecked(null);
      setFile(null);
      setDone(r.preset.name);
      onImported(r.preset.name);
    } catch (e) {
      plain(e);
    } finally {
      setBusy(false);
    }
  };
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    check(e.dataTransfer.files?.[0]);
  };

  return (
    <section className="card" aria-labelledby="import-title">
      <h2 id="import-title">Import a preset</h2>
      <div className={`dropzone${over ? " over" : ""}`} data-testid="dropzone" onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)} onDrop={drop}>
        <p>Drop a preset file (.json) here, or</p>
        <label>choose a preset file <input type="file" accept=".json,application/json" onChange={(e) => { check(e.target.files?.[0]); e.target.value = ""; }} /></label>
      </div>
      {busy && <p role="status">Checking…</p>}
      {problem && (
        <div role="alert" className="problem-box">
          <p className="problem">{problem.title}</p>
          <p>{problem.explanation}</p>
          <p className="muted">Nothing was imported and nothing changed.</p>
        </div>
      )}
      {done && <p className="good">“{done}” is in your presets. <button type="button" className="link" onClick={() => onOpen(done)}>Open it in the wizard</button></p>}
      {checked && (
        <div role="group" aria-label="Before importing" className="review-box">
          <h3 dir="auto">Before importing “{checked.preset.name}”</h3>
          <p className="muted">{checked.preset.config.profile} · {checked.preset.config.model.reference}</p>
          {checked.adjustments.length === 0 ? <p className="good">It fits this computer as it is; nothing needs to change.</p> : (
            <>
              <p>To run on this computer, {checked.adjustments.length} setting{checked.adjustments.length === 1 ? "" : "s"} will change:</p>
              <ul className="adjustments" aria-label="Adjustments for this computer">
                {checked.adjustments.map((a) => (
                  <li key={a.setting}><strong>{a.label}</strong>: from {value(a.old)} to {value(a.new)}. <span className="muted">{a.reason}</span></li>
                ))}
              </ul>
            </>
          )}
          {checked.notes.map((n) => <p key={n} className="muted">{n}</p>)}
          <div className="inline-fields">
            <label>Save as <input type="text" value={name} maxLength={200} dir="auto" onChange={(e) => setName(e.target.value)} /></label>
            {checked.replaced && name === checked.preset.name && (
              <label className="inline"><input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} /> Replace the preset of that name</label>
            )}
          </div>
          <div className="actions">
            <button type="button" className="primary" disabled={busy || (checked.replaced && name === checked.preset.name && !replace)} onClick={apply}>
              Import{checked.adjustments.length > 0 ? " with these changes" : ""}
            </button>
            <button type="button" onClick={() => { setChecked(null); setFile(null); }}>Cancel</button>
          </div>
        </div>
      )}
    </section>
  );
}
