// Versions: every model line's timeline (each version's metrics and the change from the one before, its size
// and state), set active, archive, restore and delete (with the size it frees), and two versions compared.
import { useCallback, useEffect, useState } from "react";
import { del, get, post } from "./api";
import { bytes, num } from "./format";
import { Term } from "./glossary";

export interface Version {
  id: string;
  line: string;
  number: number;
  label: string;
  run_id: string | null;
  created_at: number;
  state: string;
  active: boolean;
  size_bytes: number;
  metrics: Record<string, number>;
  previous_id?: string | null;
  deltas?: Record<string, number>;
}

interface Line {
  line: string;
  active: string | null;
  size_bytes: number;
  versions: Version[];
}

interface Comparison {
  a: Version;
  b: Version;
  metric_deltas: Record<string, number>;
  differences: { path: string; values: unknown[] }[];
}

// the numbers shown first, in this order; the rest under "All numbers"
const METRIC_LABELS: Record<string, string> = {
  val_loss: "Validation loss", final_val_loss: "Validation loss", loss: "Loss", final_loss: "Loss",
  quality_score: "Quality score", task_score: "Task score", retention_score: "Retention score", forgotten_answers: "Forgotten answers", base_val_loss: "Base model's validation loss",
};

function Metrics({ v }: { v: Version }) {
  const shown = new Set<string>(); // val_loss and final_val_loss say the same: one line per label
  const main = Object.keys(METRIC_LABELS).filter((k) => k in v.metrics && !shown.has(METRIC_LABELS[k]) && !!shown.add(METRIC_LABELS[k]));
  const rest = Object.keys(v.metrics).filter((k) => !(k in METRIC_LABELS)).sort();
  return (
    <>
      <ul className="metrics">
        {main.map((k) => <li key={k}>{METRIC_LABELS[k]}: {num(v.metrics[k])}{change(k, v.deltas?.[k])}</li>)}
      </ul>
      {rest.length > 0 && (
        <details>
          <summary>All numbers</summary>
          <ul className="metrics">{rest.map((k) => <li key={k}>{k.replace(/_/g, " ")}: {num(v.metrics[k])}{change(k, v.deltas?.[k])}</li>)}</ul>
        </details>
      )}
    </>
  );
}

// which way is better for each number: decided by the library (peftstudio.history.compare.lower_is_better)
let LOWER: Record<string, boolean | null> = {};

function change(name: string, delta: number | undefined) {
  if (delta == null || delta === 0) return null;
  const lower = LOWER[name];
  const sign = delta > 0 ? "+" : "";
  if (lower == null) return <span className="muted"> ({sign}{num(delta)})</span>;
  const better = lower ? delta < 0 : delta > 0;
  return <span className={better ? "better" : "worse"}> ({sign}{num(delta)}, {better ? "better" : "worse"})</span>;
}

export function Versions({ onError }: { onError: (e: unknown) => void }) {
  const [lines, setLines] = useState<Line[] | null>(null);
  const [free, setFree] = useState<number | null>(null);
  const [busy, setBusy] = useState("");
  const [note, setNote] = useState("");
  const [confirm, setConfirm] = useState<Version | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [comparison, setComparison] = useState<Comparison | null>(null);

  const load = useCallback(() => get<{ lines: Line[]; free_bytes: number; lower_is_better: Record<string, boolean | null> }>("/api/versions")
    .then((r) => { LOWER = r.lower_is_better; setLines(r.lines); setFree(r.free_bytes); }).catch(onError), [onError]);
  useEffect(() => { load(); }, [load]);

  const act = async (v: Version, what: "activate" | "archive" | "restore" | "delete") => {
    setBusy(`${what}:${v.id}`);
    try {
      if (what === "delete") {
        const r = await del<{ freed_bytes: number }>(`/api/versions/${encodeURIComponent(v.id)}`);
        setNote(`Deleted ${v.label}: ${bytes(r.freed_bytes)} freed.`);
        setPicked((p) => p.filter((x) => x !== v.id));
      } else {
        const r = await post<Version>(`/api/versions/${encodeURIComponent(v.id)}/${what}`);
        setNote({ activate: `${r.label} is now the active version.`, archive: `${r.label} archived: ${bytes(v.size_bytes)} → ${bytes(r.size_bytes)}.`,
          restore: `${r.label} restored (${bytes(r.size_bytes)}), every file checked.` }[what]);
      }
      setConfirm(null);
      await load();
    } catch (e) {
      onError(e);
    } finally {
      setBusy("");
    }
  };

  const pick = (id: string, on: boolean) => setPicked((p) => (on ? [...p.filter((x) => x !== id), id].slice(-2) : p.filter((x) => x !== id)));
  const compare = async () => {
    try {
      setComparison(await get<Comparison>(`/api/versions/compare?a=${encodeURIComponent(picked[0])}&b=${encodeURIComponent(picked[1])}`));
    } catch (e) {
      onError(e);
    }
  };

  return (
    <main aria-labelledby="versions-title">
      <h1 id="versions-title" tabIndex={-1}>Model versions</h1>
      <p className="lead">Every finished training becomes the next version of its model. The <Term word="active version">active</Term> one is what the playground and exports use.</p>
      {free != null && <p className="muted" data-testid="free-space">Free space on this disk: {bytes(free)}.</p>}
      {note && <p role="status" className="note">{note}</p>}
      {lines === null ? <p>Loading…</p> : lines.length === 0 ? <p className="muted">No versions yet: a training that finishes makes one.</p> : lines.map((l) => (
        <section key={l.line} className="card" aria-label={l.line}>
          <h2 dir="auto">{l.line}</h2>
          <p className="muted">{l.versions.length} version{l.versions.length === 1 ? "" : "s"} · {bytes(l.size_bytes)} on disk</p>
          <ol className="timeline">
            {l.versions.map((v) => (
              <li key={v.id} className={`version ${v.state}${v.active ? " active" : ""}`} aria-label={`${v.label} of ${l.line}`}>
                <div className="version-head">
                  <strong>{v.label}</strong>
                  {v.active && <span className="status completed">active</span>}
                  {v.state !== "ready" && <span className="status paused">{v.state}</span>}
                  <span className="muted">{new Date(v.created_at * 1000).toLocaleString()} · {bytes(v.size_bytes)}</span>
                </div>
                <Metrics v={v} />
                <div className="actions">
                  <label className="inline"><input type="checkbox" checked={picked.includes(v.id)} onChange={(e) => pick(v.id, e.target.checked)} /> Compare</label>
                  {v.state === "ready" && !v.active && <button type="button" disabled={!!busy} onClick={() => act(v, "activate")}>Set active</button>}
                  {v.state === "ready" && <a className="button" href={`#/playground/${encodeURIComponent(v.id)}`}>Open in playground</a>}
                  {v.state === "ready" && <a className="button" href={`#/export/${encodeURIComponent(v.id)}`}>Export…</a>}
                  {v.state === "ready" && <button type="button" disabled={!!busy} onClick={() => act(v, "archive")}>Archive</button>}
                  {v.state === "archived" && <button type="button" disabled={!!busy} onClick={() => act(v, "restore")}>Restore</button>}
                  <button type="button" className="danger" disabled={!!busy} onClick={() => setConfirm(v)}>Delete…</button>
                </div>
                {confirm?.id === v.id && (
                  <div role="group" aria-label={`Delete ${v.label}?`} className="confirm">
                    <p>Delete {v.label} of {l.line}? This frees {bytes(v.size_bytes)}; its number and metrics stay in the timeline, its files are gone for good.</p>
                    <button type="button" className="danger" onClick={() => act(v, "delete")}>Delete {v.label} for good</button>
                    <button type="button" onClick={() => setConfirm(null)}>Keep it</button>
                  </div>
                )}
              </li>
            ))}
          </ol>
        </section>
      ))}
      {picked.length === 2 && <button type="button" className="primary" onClick={compare}>Compare the two versions</button>}
      {comparison && (
        <section className="card" aria-label="Comparison">
          <h2>{comparison.a.label} → {comparison.b.label}</h2>
          <ul>
            {Object.entries(comparison.metric_deltas).map(([k, d]) => <li key={k}>{METRIC_LABELS[k] ?? k}: {num(comparison.a.metrics[k])} → {num(comparison.b.metrics[k])}{change(k, d)}</li>)}
          </ul>
          <h3>Settings that differ</h3>
          {comparison.differences.length === 0 ? <p className="muted">None.</p> : (
            <table>
              <thead><tr><th scope="col">Setting</th><th scope="col">{comparison.a.label}</th><th scope="col">{comparison.b.label}</th></tr></thead>
              <tbody>{comparison.differences.map((d) => <tr key={d.path}><td>{d.path}</td>{d.values.map((x, i) => <td key={i}>{JSON.stringify(x)}</td>)}</tr>)}</tbody>
            </table>
          )}
        </section>
      )}
    </main>
  );
}
