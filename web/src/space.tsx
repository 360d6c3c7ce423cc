// The disk-space prompt, opened from the `disk_full` error's "Archive or delete old model versions": the free
// space, what is missing, the older model versions (never the active one) with what archiving or deleting each
// frees, the set the library suggests (the fewest, oldest first, whose deletion frees enough), and Try again,
// which repeats what ran short. The figures come from GET /api/versions/space (peftstudio.history.disk).
import { useCallback, useEffect, useState } from "react";
import { ApiError, del, get, post } from "./api";
import { bytes } from "./format";

interface Candidate {
  version_id: string;
  label: string;
  line: string;
  state: string;
  size_bytes: number;
  frees_if_deleted: number;
  frees_if_archived: number;
}

interface Space {
  needed_bytes: number | null;
  free_bytes: number;
  missing_bytes: number | null;
  enough: boolean | null;
  candidates: Candidate[];
  suggested: string[];
  enough_if_all_deleted: boolean | null;
}

// archiving frees what compression saves: weights hardly compress, so it may free little
const archiveWords = (c: Candidate) =>
  c.frees_if_archived < c.size_bytes / 20 ? `Archive ${c.label} (frees little)` : `Archive ${c.label} (frees about ${bytes(c.frees_if_archived)})`;

// a failure inside the prompt is said in it (it is already inside an error's dialog)
const words = (e: unknown) => (e instanceof ApiError ? `${e.info.title}: ${e.info.explanation}` : String(e));

export function SpacePrompt({ details, onTryAgain }: { details: Record<string, unknown>; onTryAgain?: () => void }) {
  const needed = typeof details.needed_bytes === "number" ? details.needed_bytes : null;
  const what = typeof details.what === "string" && details.what ? details.what : "this";
  const [space, setSpace] = useState<Space | null>(null);
  const [busy, setBusy] = useState("");
  const [note, setNote] = useState("");
  const [confirm, setConfirm] = useState<string | null>(null);
  const [problem, setProblem] = useState("");

  const load = useCallback(() => get<Space>(`/api/versions/space${needed != null ? `?needed_bytes=${needed}` : ""}`)
    .then((s) => { setSpace(s); setProblem(""); }).catch((e) => setProblem(words(e))), [needed]);
  useEffect(() => { load(); }, [load]);

  const act = async (c: Candidate, how: "archive" | "delete") => {
    setBusy(`${how}:${c.version_id}`);
    try {
      if (how === "delete") {
        const r = await del<{ freed_bytes: number }>(`/api/versions/${encodeURIComponent(c.version_id)}`);
        setNote(`Deleted ${c.label} of ${c.line}: ${bytes(r.freed_bytes)} freed.`);
      } else {
        const r = await post<{ size_bytes: number }>(`/api/versions/${encodeURIComponent(c.version_id)}/archive`);
        setNote(`Archived ${c.label} of ${c.line}: ${bytes(c.size_bytes)} → ${bytes(r.size_bytes)}.`);
      }
      setConfirm(null);
      await load();
    } catch (e) {
      setProblem(words(e));
    } finally {
      setBusy("");
    }
  };

  if (!space) return problem ? <p role="alert" className="problem">{problem}</p> : <p role="status">Looking at the disk…</p>;
  const suggested = space.candidates.filter((c) => space.suggested.includes(c.version_id));
  let summary: string;
  if (space.enough) summary = `There is enough free space now for ${what}: ${bytes(space.free_bytes)} free.`;
  else if (needed != null) summary = `Writing ${what} needs about ${bytes(needed)}, but only ${bytes(space.free_bytes)} is free: ${bytes(space.missing_bytes)} more is needed.`;
  else summary = `The disk filled up while writing ${what}. ${bytes(space.free_bytes)} is free now.`;
  let advice = "";
  if (!space.enough) {
    if (space.candidates.length === 0) advice = "There are no older model versions to clear here; free space on the disk yourself.";
    else if (suggested.length) advice = `Suggested: delete ${suggested.map((c) => c.label).join(", ")}, which frees enough. Archiving keeps a version (restore it later) and frees part of its size.`;
    else if (needed != null) advice = "Even clearing every older version would not free enough; free space on the disk too.";
    else advice = "Clearing older model versions frees the space shown on each button.";
  }
  return (
    <section className="space" aria-label="Free disk space">
      <p role="status" className={space.enough ? "good" : ""} data-testid="space-summary">{summary}</p>
      {advice && <p>{advice}</p>}
      {!space.enough && space.candidates.length > 0 && (
        <ul className="plain-list space-list" aria-label="Older model versions">
          {space.candidates.map((c) => (
            <li key={c.version_id} aria-label={`${c.label} of ${c.line}`} className={space.suggested.includes(c.version_id) ? "suggested" : ""}>
              <p><strong>{c.label}</strong> of <span dir="auto">{c.line}</span>: {bytes(c.size_bytes)}{c.state === "archived" ? " (archived)" : ""}
                {space.suggested.includes(c.version_id) && <> <span className="badge good">suggested</span></>}</p>
              <div className="actions">
                {c.state === "ready" && <button type="button" disabled={!!busy} onClick={() => act(c, "archive")}>{archiveWords(c)}</button>}
                <button type="button" className="danger" disabled={!!busy} onClick={() => setConfirm(c.version_id)}>Delete {c.label} (frees {bytes(c.frees_if_deleted)})</button>
              </div>
              {confirm === c.version_id && (
                <div role="group" aria-label={`Delete ${c.label}?`} className="confirm">
                  <p>Delete {c.label} of {c.line}? Its number and metrics stay in the timeline; its files are gone for good.</p>
                  <button type="button" className="danger" disabled={!!busy} onClick={() => act(c, "delete")}>Delete {c.label} for good</button>
                  <button type="button" onClick={() => setConfirm(null)}>Keep it</button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {note && <p role="status" className="note">{note}</p>}
      {problem && <p role="alert" className="problem">{problem}</p>}
      <div className="actions">
        {onTryAgain && <button type="button" className="primary" disabled={!!busy} onClick={onTryAgain}>Try again</button>}
        <button type="button" disabled={!!busy} onClick={() => load()}>Check the disk again</button>
      </div>
    </section>
  );
}
