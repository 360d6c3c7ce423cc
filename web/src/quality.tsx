// The quality score of a finished run (its summary's `quality`, peftstudio.quality.QualityScore as the library's
// converter writes it): the total, each part with its points and what it measured, the forgetting flag said
// plainly, the held-out examples that changed most, the general questions the tuned model forgot (base and
// tuned answers), the checks' notes and what to try next. The same facts `peftstudio runs show` prints.
import { num } from "./format";

export interface QualityPart {
  name: string;
  title: string;
  points: number;
  max_points: number;
  measured: string;
}

interface ExampleChange {
  prompt: string;
  reference: string;
  base: string;
  tuned: string;
  base_score: number;
  tuned_score: number;
}

interface Forgotten {
  question: string;
  accepted: string[];
  base: string;
  tuned: string;
}

export interface Checks {
  task: { metric: string; examples: number; base: number; tuned: number; changed: ExampleChange[]; language: string } | null;
  retention: {
    asked: number; base_right: number; tuned_right: number; forgotten: Forgotten[]; learned: number;
    drift?: number | null; drift_asked?: number;
  } | null;
  seconds: number;
  budget_seconds: number;
  notes: string[];
}

export interface Quality {
  total: number;
  parts: QualityPart[];
  suggestions: string[];
  checks: Checks | null;
  flags: string[];
}

/** The run summary's quality score, when it has one. */
export function qualityOf(summary: Record<string, unknown> | undefined | null): Quality | null {
  const q = summary?.quality as Quality | undefined;
  return q && typeof q.total === "number" && Array.isArray(q.parts) ? q : null;
}

export const flagged = (q: Quality) => q.flags.includes("forgetting");

/** Points of a part as "40/50". */
export const points = (p: QualityPart) => `${Math.round(p.points)}/${p.max_points}`;

/** Why the retention part is missing although the checks ran (the base model knew none of the answers). */
function retentionNote(q: Quality): string | null {
  const r = q.checks?.retention;
  if (!r || q.parts.some((p) => p.name === "retention")) return null;
  return `Retention not scored: the base model answered none of the ${r.asked} general questions asked right, so there was nothing to forget.`;
}

export function QualityCard({ quality: q }: { quality: Quality }) {
  const retention = q.checks?.retention ?? null;
  const task = q.checks?.task ?? null;
  const forgotten = retention?.forgotten ?? [];
  const note = retentionNote(q);
  return (
    <section className="card quality" aria-labelledby="quality-title">
      <h2 id="quality-title">Quality score <span data-testid="quality-total">{q.total}/100</span></h2>
      {flagged(q) && retention && (
        <p className="problem" data-testid="forgetting">
          Flagged for forgetting: the tuned model lost what the base model knew.
          {retention.drift != null ? ` Its beliefs about general facts moved ${retention.drift.toFixed(2)} nats per question
          from the base model's (the drift, over ${retention.drift_asked} questions).` : ""} Of the {retention.base_right} general
          questions the base model answered right, the tuned model got {retention.forgotten.length} wrong
          {retention.learned ? ` (and ${retention.learned} newly right)` : ""}. The score is held down for it, whatever the loss.
        </p>
      )}
      <table aria-label="Quality score's parts" className="parts">
        <thead><tr><th scope="col">Part</th><th scope="col">Points</th><th scope="col">What it measured</th></tr></thead>
        <tbody>
          {q.parts.map((p) => (
            <tr key={p.name}><th scope="row">{p.title}</th><td>{points(p)}</td><td dir="auto">{p.measured}</td></tr>
          ))}
        </tbody>
      </table>
      <p className="muted">A part that could not be measured is left out, and the total is scaled to the parts that were.
        {q.checks ? "" : " The checks after training did not run for this run, so there is no task or retention part."}</p>
      {note && <p className="muted">{note}</p>}
      {forgotten.length > 0 && (
        <>
          <h3>Forgotten ({forgotten.length}): general questions the base model answered right</h3>
          <ul className="forgotten" aria-label="Forgotten questions">
            {forgotten.map((f, i) => (
              <li key={`${f.question}-${i}`}>
                <strong dir="auto">{f.question}</strong> <span className="muted">(expected {f.accepted.join(" / ")})</span>
                <dl className="answers">
                  <dt>Base</dt><dd dir="auto">{f.base}</dd>
                  <dt>Tuned</dt><dd dir="auto">{f.tuned}</dd>
                </dl>
              </li>
            ))}
          </ul>
        </>
      )}
      {task && task.changed.length > 0 && (
        <details>
          <summary>Held-out examples that changed most ({task.metric}, base → tuned)</summary>
          <ul className="forgotten">
            {task.changed.map((c, i) => (
              <li key={`${c.prompt}-${i}`}>
                <strong dir="auto">{c.prompt}</strong> <span className="muted">{num(c.base_score, 2)} → {num(c.tuned_score, 2)}</span>
                <dl className="answers">
                  <dt>Base</dt><dd dir="auto">{c.base}</dd>
                  <dt>Tuned</dt><dd dir="auto">{c.tuned}</dd>
                </dl>
              </li>
            ))}
          </ul>
        </details>
      )}
      {q.checks?.notes.map((n) => <p key={n} className="muted">({n})</p>)}
      {q.suggestions.length > 0 && (
        <>
          <h3>What to try next</h3>
          <ul>{q.suggestions.map((s) => <li key={s}>{s}</li>)}</ul>
        </>
      )}
    </section>
  );
}
