// Glossary terms: a technical word shows its plain definition on hover, keyboard focus and long-press.
import { createContext, useContext, useId, useRef, useState, type ReactNode } from "react";
import type { Term as TermRecord } from "./api";

export const GlossaryContext = createContext<TermRecord[]>([]);

export function findTerm(terms: TermRecord[], word: string): TermRecord | undefined {
  const w = word.trim().toLowerCase();
  return terms.find((t) => t.term.toLowerCase() === w || t.aliases.some((a) => a.toLowerCase() === w));
}

export function Term({ word, children, label }: { word: string; children?: ReactNode; label?: string }) {
  const terms = useContext(GlossaryContext);
  const entry = findTerm(terms, word);
  const id = useId();
  const [open, setOpen] = useState(false);
  const timer = useRef<number | undefined>(undefined);
  if (!entry) return <>{children ?? word}</>;
  return (
    <span className="term-wrap" onMouseEnter={() => setOpen(true)} onMouseLeave={() => setOpen(false)}>
      <button
        type="button"
        className="term"
        aria-describedby={id}
        aria-label={label}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={(e) => {
          if (e.key === "Escape" && open) {
            e.preventDefault(); // this Escape closes the entry; the screen's own Escape (the wizard's Back) waits
            setOpen(false);
          }
        }}
        onClick={() => setOpen((o) => !o)}
        onPointerDown={(e) => {
          if (e.pointerType === "touch") timer.current = window.setTimeout(() => setOpen(true), 450);
        }}
        onPointerUp={() => window.clearTimeout(timer.current)}
      >
        {children ?? word}
      </button>
      <span role="tooltip" id={id} className={open ? "tooltip open" : "tooltip"}>
        <strong>{entry.term}</strong>: {entry.definition}
        {entry.example ? <em> Example: {entry.example}</em> : null}
      </span>
    </span>
  );
}
