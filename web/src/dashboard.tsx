// The live dashboard: the run's updates arrive as Server-Sent Events (the browser's EventSource resumes
// after a dropped connection with Last-Event-ID). Loss chart with zones, progress, ETA with its range,
// system gauges, the guards' banners with their actions, pause and resume, the error dialog with fixes; once
// finished, the quality score with its parts (quality.tsx).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, get, post, type Action, type ErrorInfo, type Run, type RunFixRequest } from "./api";
import { LossChart } from "./chart";
import { ErrorDialog } from "./dialogs";
import { duration, num, percent } from "./format";
import { Term } from "./glossary";
import { loadNotifyInfo, Milestones, setTitle } from "./notify";
import { NotificationSettings } from "./notifysettings";
import { QualityCard, qualityOf } from "./quality";

interface Banner {
  id: number;
  title: string;
  message: string;
  advice: string[];
  severity: string;
  actions: Action[];
}

const BANNER_TITLES: Record<string, string> = {
  divergence: "Training became unstable",
  overfitting: "The model is starting to memorise the examples",
  memory_pressure: "Memory is running short",
  gradient_explosion: "A sudden jump in training",
};

interface Live {
  steps: number[];
  loss: (number | null)[];
  val: (number | null)[];
  latest: Record<string, number>;
  reading: Record<string, unknown> | null;
}

function emptyLive(): Live {
  return { steps: [], loss: [], val: [], latest: {}, reading: null };
}

export function Dashboard({ runId, onError, onHome }: { runId: string; onError: (e: unknown, retry?: () => void) => void; onHome: () => void }) {
  const [run, setRun] = useState<Run | null>(null);
  const [live, setLive] = useState<Live>(emptyLive);
  const [banners, setBanners] = useState<Banner[]>([]);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ErrorInfo | null>(null);
  const [connected, setConnected] = useState(true);
  const [checking, setChecking] = useState("");
  const points = useRef(new Map<number, { loss: number | null; val: number | null }>());
  const latest = useRef<Record<string, number>>({});
  const reading = useRef<Record<string, unknown> | null>(null);
  const frame = useRef<number | null>(null);
  const lastId = useRef<string>("");
  const source = useRef<EventSource | null>(null);
  const milestones = useRef<Milestones | null>(null);
  const statusSeen = useRef<string>("");

  const flush = useCallback(() => {
    frame.current = null;
    const steps = [...points.current.keys()].sort((a, b) => a - b);
    setLive({
      steps,
      loss: steps.map((s) => points.current.get(s)!.loss),
      val: steps.map((s) => points.current.get(s)!.val),
      latest: { ...latest.current },
      reading: reading.current,
    });
  }, []);
  const schedule = useCallback(() => {
    if (frame.current == null) frame.current = requestAnimationFrame(flush);
  }, [flush]);

  const connect = useCallback(() => {
    source.current?.close();
    const since = lastId.current ? `?since=${encodeURIComponent(lastId.current)}` : "";
    const es = new EventSource(`/api/runs/${encodeURIComponent(runId)}/stream${since}`);
    source.current = es;
    const remember = (e: MessageEvent) => {
      if (e.lastEventId) lastId.current = e.lastEventId;
      return JSON.parse(e.data);
    };
    es.addEventListener("open", () => setConnected(true));
    es.addEventListener("error", () => setConnected(es.readyState === EventSource.OPEN));
    es.addEventListener("metric", (e) => {
      const m = remember(e as MessageEvent);
      const p = points.current.get(m.step) ?? { loss: null, val: null };
      if (m.name === "loss") p.loss = m.value;
      else if (m.name === "val_loss") p.val = m.value;
      if (m.name === "loss" || m.name === "val_loss") points.current.set(m.step, p);
      if (m.value != null) latest.current[m.name] = m.value;
      latest.current.step = Math.max(latest.current.step ?? 0, m.step);
      if (m.name === "loss" && points.current.size === 1) get<Run>(`/api/runs/${runId}`).then(setRun).catch(() => {});
      schedule();
    });
    es.addEventListener("reading", (e) => {
      reading.current = remember(e as MessageEvent).data;
      schedule();
    });
    es.addEventListener("event", (e) => {
      const ev = remember(e as MessageEvent);
      const data = ev.data || {};
      if (ev.kind === "resumed" || ev.kind === "started") {
        // steps after the checkpoint are redone: their points will arrive again
      }
      if (ev.kind === "checking") setChecking(ev.message);
      // the quality score's suggestions are shown with its parts once the run is finished, not as a banner
      if (ev.kind === "quality") return;
      const suggestions = data.suggestions as (string | { label: string; fix_id?: string })[] | undefined;
      if (suggestions && suggestions.length) {
        const id = Number((e as MessageEvent).lastEventId.split(".")[1]);
        milestones.current?.warning(data.title || BANNER_TITLES[ev.kind] || ev.kind);
        setBanners((bs) => bs.some((b) => b.id === id) ? bs : [...bs, {
          id,
          title: data.title || BANNER_TITLES[ev.kind] || ev.kind,
          message: ev.message,
          advice: suggestions.map((s) => (typeof s === "string" ? s : s.label)),
          severity: data.severity || (data.error_code || data.action === "pause" ? "error" : "warning"),
          actions: suggestions.filter((s): s is { label: string; fix_id: string } => typeof s !== "string" && !!s.fix_id)
            .map((s) => ({ label: s.label, fix_id: s.fix_id, steps: [] })),
        }]);
        // a guard that stopped the run left its plain error on it: the error's fixes are the banner's actions
        const code = data.error_code as string | undefined;
        if (code) {
          get<Run>(`/api/runs/${runId}`).then((r) => {
            setRun(r);
            const fixes = r.error?.code === code ? r.error.actions.filter((a) => a.fix_id) : [];
            if (fixes.length) setBanners((bs) => bs.map((b) => (b.id === id ? { ...b, actions: fixes } : b)));
          }).catch(() => {});
        }
      }
    });
    es.addEventListener("status", (e) => {
      const st = remember(e as MessageEvent);
      setRun(st.run);
      const before = statusSeen.current;
      statusSeen.current = st.status;
      const name = st.run.name || st.run.id;
      if (!milestones.current) {
        milestones.current = new Milestones(name);
        const total = st.run.summary.total_steps;
        if (total && st.run.summary.step) milestones.current.skipTo(st.run.summary.step / total);
      }
      if (st.status === "failed" && st.run.error) {
        setFailure(st.run.error);
        if (before) milestones.current.failed(st.run.error.title);
      }
      if (st.status === "completed" && before && before !== "completed") milestones.current.completed();
    });
    es.addEventListener("end", (e) => {
      remember(e as MessageEvent);
      es.close();
    });
  }, [runId, schedule]);

  useEffect(() => {
    points.current.clear();
    latest.current = {};
    lastId.current = "";
    statusSeen.current = "";
    milestones.current = null;
    setLive(emptyLive());
    setBanners([]);
    setChecking("");
    get<Run>(`/api/runs/${runId}`).then(setRun).catch(onError);
    let gone = false;
    loadNotifyInfo().finally(() => gone || connect());
    return () => {
      gone = true;
      source.current?.close();
    };
  }, [runId, connect, onError]);

  const total = run?.summary.total_steps ?? null;
  const step = live.latest.step ?? run?.summary.step ?? 0;
  const fraction = total ? Math.min(1, step / total) : null;
  const status = run?.status ?? "…";
  useEffect(() => {
    setTitle(status === "completed" ? 1 : fraction, status);
    if (fraction != null && status === "running") milestones.current?.progress(fraction);
  }, [fraction, status]);
  useEffect(() => () => { document.title = "PEFT Studio"; }, []);

  const act = async (path: string) => {
    setBusy(true);
    try {
      const r = await post<Run>(`/api/runs/${runId}/${path}`);
      setRun(r);
      if (path === "resume") connect();
    } catch (e) {
      onError(e, () => act(path));
    } finally {
      setBusy(false);
    }
  };

  const fix = async (a: Action): Promise<boolean> => {
    if (!a.fix_id) return false;
    try {
      const r = await post<{ run: Run }>(`/api/runs/${runId}/fixes`, { fix: a.fix_id } satisfies RunFixRequest);
      setRun(r.run);
      setFailure(null);
      connect();
      return true;
    } catch (e) {
      if (e instanceof ApiError) setFailure(e.info);
      return false;
    }
  };

  const gauges = useMemo(() => gaugeValues(live.reading), [live.reading]);
  const eta = live.latest.eta_seconds;
  const paused = status === "paused";
  const active = status === "running" || status === "queued";
  const quality = status === "completed" ? qualityOf(run?.summary) : null;

  return (
    <main aria-labelledby="dash-title">
      <p><button type="button" className="link" onClick={onHome}>← Home</button></p>
      <h1 id="dash-title" dir="auto">{run?.name || "Training"} <span className={`status ${status}`}>{status}</span></h1>
      {!connected && active && <p className="notice" role="status">Reconnecting to the server… nothing is lost.</p>}
      <section aria-label="Progress" className="cards">
        <div className="card">
          <h2>Progress</h2>
          <progress max={total ?? 1} value={total ? step : undefined} aria-label="Training progress" />
          <p>
            <Term word="step">Step</Term> {step}{total ? ` of ${total}` : ""}{fraction != null ? ` (${percent(fraction)})` : ""}
          </p>
          <p>Time left: <strong data-testid="eta">{status === "completed" ? "done" : duration(eta)}</strong>
            {eta != null && status !== "completed" ? ` (${duration(live.latest.eta_low_seconds)} – ${duration(live.latest.eta_high_seconds)})` : ""}</p>
          <p><Term word="loss">Loss</Term> <strong data-testid="loss">{num(live.latest.loss)}</strong>
            {live.latest.val_loss != null ? <> · <Term word="validation loss">validation</Term> {num(live.latest.val_loss)}</> : null}
            {live.latest.tokens_per_second != null ? ` · ${Math.round(live.latest.tokens_per_second)} tokens/s` : ""}</p>
          <div className="actions">
            {active && <button type="button" disabled={busy} onClick={() => act("pause")}>Pause</button>}
            {(paused || status === "failed") && <button type="button" className="primary" disabled={busy} onClick={() => act("resume")}>Resume</button>}
          </div>
          {checking && status === "running" && <p role="status">{checking}</p>}
          {paused && <p role="status">Paused at step {String((run?.summary.pause as { step?: number } | undefined)?.step ?? step)}. Its memory is free; Resume continues exactly there.</p>}
          <NotificationSettings />
          {status === "completed" && <p role="status" className="good">Finished: {String(run?.summary.steps ?? step)} steps, final loss {num(run?.summary.final_loss as number)}.{run?.summary.adapter_path ? " The adapter is saved." : ""}</p>}
        </div>
        <div className="card">
          <h2>This computer</h2>
          {gauges.map((g) => (
            <div className="gauge" key={g.label}>
              <label>{g.label} <meter min={0} max={100} value={g.value ?? 0} aria-label={g.label} high={85} /> {g.value == null ? "–" : `${Math.round(g.value)}%`}</label>
              <span className="muted">{g.detail}</span>
            </div>
          ))}
        </div>
      </section>
      {quality && <QualityCard quality={quality} />}
      {banners.map((b) => (
        <section key={b.id} className={`banner ${b.severity}`} role="alert" aria-label={b.title}>
          <h2>{b.title}</h2>
          <p dir="auto">{b.message}</p>
          {b.advice.length > 0 && <ul>{b.advice.map((a) => <li key={a}>{a}</li>)}</ul>}
          <div className="actions">
            {b.actions.slice(0, 3).map((a) => (
              <button type="button" key={a.label} className="primary" onClick={async () => {
                if (await fix(a)) setBanners((bs) => bs.filter((x) => x.id !== b.id)); // being dealt with
              }}>{a.label}</button>
            ))}
            <button type="button" className="link" onClick={() => setBanners((bs) => bs.filter((x) => x.id !== b.id))}>Dismiss</button>
          </div>
        </section>
      ))}
      <section aria-label="Loss chart" className="card">
        <h2><Term word="loss">Loss</Term> over training</h2>
        <LossChart steps={live.steps} loss={live.loss} val={live.val} zones={run?.loss_zones ?? null} />
      </section>
      {failure && <ErrorDialog info={failure} onClose={() => setFailure(null)} onAction={fix}
        onTryAgain={() => { const a = failure.actions.find((x) => x.fix_id === "free_space"); if (a) fix(a); }} />}
    </main>
  );
}

function gaugeValues(r: Record<string, unknown> | null): { label: string; value: number | null; detail: string }[] {
  const out: { label: string; value: number | null; detail: string }[] = [];
  const gpus = (r?.gpus as Record<string, number | string>[] | undefined) ?? [];
  if (gpus.length) {
    const g = gpus[0];
    out.push({ label: "GPU", value: (g.utilization_percent as number) ?? null, detail: String(g.name ?? "GPU") });
    out.push({ label: "GPU memory", value: (g.memory_percent as number) ?? null, detail: "" });
    out.push({ label: "GPU temperature", value: (g.temperature_c as number) ?? null, detail: "°C, amber from 80" });
  }
  out.push({ label: "Processor", value: (r?.cpu_percent as number) ?? null, detail: r ? "all cores" : "waiting for a reading" });
  out.push({ label: "Memory", value: (r?.ram_percent as number) ?? null, detail: r ? "" : "waiting for a reading" });
  return out;
}
