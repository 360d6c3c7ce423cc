// Home: start a new training, or pick up a recent run (Watch a live or finished one, Resume a stopped one).
import { useEffect, useState } from "react";
import { get, type Run } from "./api";

export function Home({ onNew, onOpen, onResume, onError }: {
  onNew: () => void;
  onOpen: (id: string) => void;
  onResume: (id: string) => void;
  onError: (e: unknown) => void;
}) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  useEffect(() => {
    get<{ runs: Run[] }>("/api/runs").then((r) => setRuns(r.runs)).catch(onError);
  }, [onError]);
  return (
    <main aria-labelledby="home-title">
      <h1 id="home-title">PEFT Studio</h1>
      <p className="lead">Teach a language model a new skill on your own examples, safely and step by step.</p>
      <button type="button" className="primary big" onClick={onNew}>New training</button>
      <h2>Recent runs</h2>
      {runs === null ? <p>Loading…</p> : runs.length === 0 ? <p className="muted">No runs yet. Start a new training.</p> : (
        <ul className="runs">
          {runs.slice(0, 20).map((r) => (
            <li key={r.id} className="run">
              <span className="run-name" dir="auto">{r.name || r.id}</span>
              <span className={`status ${r.status}`}>{r.status}</span>
              <span className="muted">{r.config.model.reference} · {r.config.profile} · {new Date(r.created_at * 1000).toLocaleString()}</span>
              {(r.status === "paused" || r.status === "failed")
                ? <button type="button" aria-label={`Resume ${r.name || r.id}`} onClick={() => onResume(r.id)}>Resume</button>
                : <button type="button" aria-label={`Watch ${r.name || r.id}`} onClick={() => onOpen(r.id)}>Watch</button>}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
