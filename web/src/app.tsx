// The page's frame: the screen named by the address (#/, #/new, #/runs/ID, #/versions), the glossary, the
// error dialog.
import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { ApiError, get, post, type ErrorInfo, type Run, type Term as TermRecord } from "./api";
import { Compare } from "./compare";
import { Dashboard } from "./dashboard";
import { ErrorDialog } from "./dialogs";
import { GlossaryContext } from "./glossary";
import { Home } from "./home";
import { Presets } from "./presets";
import { Versions } from "./versions";
import { fillFrom, Wizard, type FillFrom } from "./wizard";

// the playground brings markdown and highlighting: loaded when first opened
const Playground = lazy(() => import("./playground").then((m) => ({ default: m.Playground })));
const Export = lazy(() => import("./export").then((m) => ({ default: m.Export })));

type Screen = { name: "home" } | { name: "new"; from?: FillFrom } | { name: "run"; id: string } | { name: "versions" }
  | { name: "presets" } | { name: "compare" } | { name: "playground"; id?: string } | { name: "export"; id?: string };

function parse(hash: string): Screen {
  const m = hash.match(/^#\/runs\/([^/]+)/);
  if (m) return { name: "run", id: decodeURIComponent(m[1]) };
  if (hash.startsWith("#/new")) return { name: "new", from: fillFrom(hash) };
  if (hash.startsWith("#/presets")) return { name: "presets" };
  if (hash.startsWith("#/compare")) return { name: "compare" };
  if (hash.startsWith("#/versions")) return { name: "versions" };
  const play = hash.match(/^#\/playground(?:\/([^/]+))?/);
  if (play) return { name: "playground", id: play[1] ? decodeURIComponent(play[1]) : undefined };
  const exp = hash.match(/^#\/export(?:\/([^/]+))?/);
  if (exp) return { name: "export", id: exp[1] ? decodeURIComponent(exp[1]) : undefined };
  return { name: "home" };
}

export function App() {
  const [screen, setScreen] = useState<Screen>(parse(location.hash));
  const [terms, setTerms] = useState<TermRecord[]>([]);
  const [error, setError] = useState<{ info: ErrorInfo; retry?: () => void } | null>(null);

  useEffect(() => {
    const onHash = () => setScreen(parse(location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    get<{ terms: TermRecord[] }>("/api/glossary").then((r) => setTerms(r.terms)).catch(() => {});
  }, []);

  const go = (hash: string) => {
    location.hash = hash;
  };
  const onError = useCallback((e: unknown, retry?: () => void) => {
    if (e instanceof ApiError) setError({ info: e.info, retry });
    else setError({ info: { code: "internal_error", title: "Something went wrong", explanation: String(e), actions: [], help_anchor: "internal-error", help_url: "errors#internal-error", details: {} }, retry });
  }, []);
  const resume = async (id: string) => {
    try {
      await post<Run>(`/api/runs/${encodeURIComponent(id)}/resume`);
      go(`#/runs/${encodeURIComponent(id)}`);
    } catch (e) {
      onError(e, () => resume(id));
    }
  };

  return (
    <GlossaryContext.Provider value={terms}>
      <a className="skip" href="#content" onClick={(e) => { e.preventDefault(); document.querySelector<HTMLElement>("main h1")?.focus(); }}>Skip to content</a>
      <header className="top">
        <a href="#/" className="brand">PEFT Studio</a>
        <nav aria-label="Screens"><a href="#/versions" aria-current={screen.name === "versions" ? "page" : undefined}>Versions</a>
          {" "}<a href="#/presets" aria-current={screen.name === "presets" ? "page" : undefined}>Presets</a>
          {" "}<a href="#/compare" aria-current={screen.name === "compare" ? "page" : undefined}>Compare</a>
          {" "}<a href="#/playground" aria-current={screen.name === "playground" ? "page" : undefined}>Playground</a>
          {" "}<a href="#/export" aria-current={screen.name === "export" ? "page" : undefined}>Export</a></nav>
      </header>
      <div id="content">
        {screen.name === "home" && <Home onNew={() => go("#/new")} onOpen={(id) => go(`#/runs/${encodeURIComponent(id)}`)} onResume={resume} onError={onError} />}
        {screen.name === "new" && <Wizard key={location.hash} from={screen.from} onStarted={(r) => go(`#/runs/${encodeURIComponent(r.id)}`)} onError={onError} onCancel={() => go("#/")} />}
        {screen.name === "run" && <Dashboard runId={screen.id} onError={onError} onHome={() => go("#/")} />}
        {screen.name === "versions" && <Versions onError={onError} />}
        {screen.name === "compare" && <Compare onError={onError} onTrainAgain={(id) => go(`#/new?run=${encodeURIComponent(id)}`)} />}
        {screen.name === "presets" && <Presets onError={onError} onOpen={(name) => go(`#/new?preset=${encodeURIComponent(name)}`)} />}
        {screen.name === "playground" && <Suspense fallback={<main><p>Loading…</p></main>}><Playground key={screen.id ?? ""} target={screen.id} onError={onError} /></Suspense>}
        {screen.name === "export" && <Suspense fallback={<main><p>Loading…</p></main>}><Export key={screen.id ?? ""} target={screen.id} onError={onError} /></Suspense>}
      </div>
      {error && (
        <ErrorDialog info={error.info} onClose={() => setError(null)}
          extraActions={error.retry ? [{ label: "Try again", run: error.retry }] : undefined}
          onTryAgain={error.retry}
          onAction={(a) => {
            if (a.fix_id === "retry" && error.retry) { error.retry(); return true; }
            if (a.fix_id === "use_builtin") { go("#/new"); return true; }
            return false;
          }} />
      )}
    </GlossaryContext.Provider>
  );
}
