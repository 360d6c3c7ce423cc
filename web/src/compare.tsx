// Compare runs: the sortable table of every finished run (best first; which way is better is the library's
// rule), 2–5 runs chosen and their charts side by side with the best run per metric marked, the settings that
// differ, the quality score's parts of each run, and "Train again with these settings" (the wizard filled in).
import { Fragment, useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { get, type Run } from "./api";
import { duration, num } from "./format";
import { flagged, points, qualityOf, type Quality } from "./quality";

interface Row {
  run_id: string;
  name: string;
  model: string;
  profile: string;
  date: number;
  final_val_loss: number | null;
  best_val_loss: number | null;
  quality_score: number | null;
  duration_seconds: number | null;
  tokens_per_second: number | null;
  cost: number | null;
  task_score: number | null;
  retention_score: number | null;
  forgotten_answers: number | null;
  forgetting: boolean;
}

interface Chart {
  name: string;
  lower_is_better: boolean | null;
  steps: number[];
  by_step: Record<string, (number | null)[]>;
  best_value: Record<string, number>;
  best_run_id: string | null;
}

interface Comparison {
  run_ids: string[];
  rows: Row[];
  charts: Chart[];
  best: Record<string, string>;
  differences: { path: string; values: unknown[] }[];
}

const COLUMNS: [keyof Row, string, (v: number) => string][] = [
  ["final_val_loss", "Validation loss", (v) => num(v)],
  ["best_val_loss", "Best validation loss", (v) => num(v)],
  ["quality_score", "Quality score", (v) => num(v, 1)],
  ["task_score", "Task", (v) => String(Math.round(v))],
  ["retention_score", "Retention", (v) => String(Math.round(v))],
  ["forgotten_answers", "Forgotten answers", (v) => String(v)],
  ["duration_seconds", "Time", duration],
  ["tokens_per_second", "Tokens per second", (v) => num(v, 1)],
  ["date", "Finished", (v) => new Date(v * 1000).toLocaleString()],
];
const COLOURS = ["#1f5fbf", "#c2410c", "#15803d", "#9333ea", "#a16207"];
const LABELS: Record<string, string> = { val_loss: "Validation loss", loss: "Training loss", learning_rate: "Learning rate" };

export function Compare({ onError, onTrainAgain }: { onError: (e: unknown) => void; onTrainAgain: (runId: string) => void }) {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [sort, setSort] = useState<{ by: string; descending: boolean | null }>({ by: "date", descending: null });
  // the order the rows came in: the column, and the direction the server chose (by default the best first)
  const [shown, setShown] = useState<{ by: string; descending: boolean }>({ by: "date", descending: true });
  const [picked, setPicked] = useState<string[]>([]);
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const [qualities, setQualities] = useState<Record<string, Quality | null>>({});

  useEffect(() => {
    const p = new URLSearchParams({ sort: sort.by });
    if (sort.descending !== null) p.set("descending", String(sort.descending));
    get<{ rows: Row[]; sort: string; descending: boolean }>(`/api/compare/runs?${p}`).then((r) => {
      setRows(r.rows);
      setShown({ by: r.sort, descending: r.descending });
    }).catch(onError);
  }, [sort, onError]);

  const toggle = (id: string, on: boolean) => setPicked((p) => (on ? [...p.filter((x) => x !== id), id] : p.filter((x) => x !== id)));
  const compare = async () => {
    try {
      const c = await get<Comparison>(`/api/compare?${picked.map((id) => `runs=${encodeURIComponent(id)}`).join("&")}`);
      // each run's quality score with every part (the table rows carry the task and retention points only)
      const runs = await Promise.all(c.run_ids.map((id) => get<Run>(`/api/runs/${encodeURIComponent(id)}`)));
      setQualities(Object.fromEntries(runs.map((r) => [r.id, qualityOf(r.summary)])));
      setComparison(c);
    } catch (e) {
      onError(e);
    }
  };
  const header = (key: string, label: string) => {
    const active = shown.by === key;
    const order = active ? (shown.descending ? "descending" : "ascending") : "none";
    return (
      <th scope="col" aria-sort={order}>
        <button type="button" className="link" onClick={() => setSort({ by: key, descending: active ? !shown.descending : null })}>{label}</button>
      </th>
    );
  };
  const names = Object.fromEntries((comparison?.rows ?? []).map((r) => [r.run_id, r.name]));

  return (
    <main aria-labelledby="compare-title">
      <h1 id="compare-title" tabIndex={-1}>Compare runs</h1>
      <p className="lead">Every finished training. Choose 2 to 5 to see their charts side by side; the best is marked (lower is better for a loss, higher for a score).</p>
      {rows === null ? <p>Loading…</p> : rows.length === 0 ? <p className="muted">No finished runs yet.</p> : (
        <table aria-label="Finished runs">
          <thead><tr><th scope="col">Compare</th>{header("name", "Run")}{COLUMNS.map(([k, label]) => <Fragment key={k}>{header(k, label)}</Fragment>)}</tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.run_id}>
                <td><input type="checkbox" aria-label={`Compare ${r.name}`} checked={picked.includes(r.run_id)} disabled={!picked.includes(r.run_id) && picked.length >= 5} onChange={(e) => toggle(r.run_id, e.target.checked)} /></td>
                <th scope="row" dir="auto">{r.name}</th>
                {COLUMNS.map(([k, , f]) => <td key={k} data-column={k}>{cell(r, k, f)}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        <button type="button" className="primary" disabled={picked.length < 2 || picked.length > 5} onClick={compare}>Compare {picked.length} runs</button>
        {picked.length < 2 && <span className="muted">Choose at least 2 runs (at most 5).</span>}
      </div>
      {comparison && (
        <section aria-label="Comparison">
          <h2>Charts</h2>
          <div className="chart-grid">
            {comparison.charts.map((c) => <MetricChart key={c.name} chart={c} names={names} />)}
          </div>
          <QualityParts ids={comparison.run_ids} names={names} qualities={qualities} />
          <h2>Settings that differ</h2>
          {comparison.differences.length === 0 ? <p className="muted">None: the same settings.</p> : (
            <table aria-label="Settings that differ">
              <thead><tr><th scope="col">Setting</th>{comparison.run_ids.map((id) => <th key={id} scope="col" dir="auto">{names[id]}</th>)}</tr></thead>
              <tbody>{comparison.differences.map((d) => <tr key={d.path}><th scope="row">{d.path}</th>{d.values.map((x, i) => <td key={i}>{x == null ? "–" : typeof x === "object" ? JSON.stringify(x) : String(x)}</td>)}</tr>)}</tbody>
            </table>
          )}
          <h2>Train again</h2>
          <div className="actions">
            {comparison.run_ids.map((id) => <button key={id} type="button" onClick={() => onTrainAgain(id)}>Train again with the settings of {names[id]}</button>)}
          </div>
        </section>
      )}
    </main>
  );
}

// a table cell: the value, "not scored" for a retention check that had nothing to measure (the base model knew
// none of the answers), and the forgetting flag next to the forgotten answers
function cell(r: Row, k: keyof Row, f: (v: number) => string) {
  const v = r[k];
  const text = v == null ? (k === "retention_score" && r.forgotten_answers != null ? "not scored" : "–") : f(v as number);
  if (k !== "forgotten_answers" || !r.forgetting) return text;
  return <>{text} <span className="badge bad">flagged for forgetting</span></>;
}

// every part of each compared run's quality score, side by side: points of the most, what it measured
function QualityParts({ ids, names, qualities }: { ids: string[]; names: Record<string, string>; qualities: Record<string, Quality | null> }) {
  const parts: { name: string; title: string }[] = [];
  for (const id of ids) {
    for (const p of qualities[id]?.parts ?? []) if (!parts.some((x) => x.name === p.name)) parts.push({ name: p.name, title: p.title });
  }
  if (!ids.some((id) => qualities[id])) return <><h2>Quality score</h2><p className="muted">None of these runs has a quality score.</p></>;
  const cell = (q: Quality | null | undefined, name: string) => {
    const p = q?.parts.find((x) => x.name === name);
    if (!q) return "–";
    if (!p) return <span className="muted">not measured</span>;
    return <>{points(p)}<br /><span className="muted small">{p.measured}</span></>;
  };
  return (
    <>
      <h2>Quality score</h2>
      <table aria-label="Quality score's parts by run" className="parts">
        <thead><tr><th scope="col">Part</th>{ids.map((id) => <th key={id} scope="col" dir="auto">{names[id]}</th>)}</tr></thead>
        <tbody>
          <tr><th scope="row">Total</th>{ids.map((id) => <td key={id}>{qualities[id] ? `${qualities[id]!.total}/100` : "–"}</td>)}</tr>
          {parts.map((p) => <tr key={p.name}><th scope="row">{p.title}</th>{ids.map((id) => <td key={id}>{cell(qualities[id], p.name)}</td>)}</tr>)}
          <tr><th scope="row">Forgotten answers</th>{ids.map((id) => {
            const r = qualities[id]?.checks?.retention;
            return <td key={id}>{r ? `${r.forgotten.length} of the ${r.base_right} the base model knew`
              + (r.drift != null ? `; drift ${r.drift.toFixed(2)}` : "") : "–"}</td>;
          })}</tr>
          <tr><th scope="row">Flagged</th>{ids.map((id) => {
            const q = qualities[id];
            return <td key={id}>{!q ? "–" : flagged(q) ? <span className="badge bad">forgetting</span> : "no"}</td>;
          })}</tr>
        </tbody>
      </table>
    </>
  );
}

function MetricChart({ chart, names }: { chart: Chart; names: Record<string, string> }) {
  const box = useRef<HTMLDivElement>(null);
  const ids = Object.keys(chart.by_step);
  useEffect(() => {
    if (!box.current) return;
    const text = getComputedStyle(document.documentElement).getPropertyValue("--text").trim() || "#888";
    const axis = { stroke: text, grid: { stroke: "rgba(128,128,128,0.2)" } };
    const plot = new uPlot({
      width: 420, height: 220, legend: { show: false }, scales: { x: { time: false } },
      series: [{}, ...ids.map((id, i) => ({ label: names[id], stroke: COLOURS[i % COLOURS.length], width: id === chart.best_run_id ? 3 : 1.5, spanGaps: true }))],
      axes: [axis, axis],
    }, [chart.steps, ...ids.map((id) => chart.by_step[id])] as uPlot.AlignedData, box.current);
    return () => plot.destroy();
  }, [chart, ids, names]);
  const best = chart.best_run_id;
  const label = LABELS[chart.name] ?? chart.name.replace(/_/g, " ");
  return (
    <figure className="card metric-chart" aria-label={label}>
      <figcaption>
        <strong>{label}</strong>{" "}
        {best ? <span data-testid={`best-${chart.name}`}>· best: <span className="best">★ {names[best]}</span> ({num(chart.best_value[best])}, {chart.lower_is_better ? "lowest" : "highest"})</span>
          : <span className="muted">· no “better” for this number</span>}
      </figcaption>
      <div ref={box} role="img" aria-label={`${label} by step for ${ids.map((id) => names[id]).join(", ")}`} />
      <ul className="legend">
        {ids.map((id, i) => <li key={id}><span className="swatch" style={{ background: COLOURS[i % COLOURS.length] }} /> {names[id]}{id === best ? " ★" : ""}: {chart.best_value[id] == null ? "–" : num(chart.best_value[id])}</li>)}
      </ul>
    </figure>
  );
}
