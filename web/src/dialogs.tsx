// Plain error dialogs (a title, an explanation, 2-3 actions that fix or list steps, Get help) and the
// offline help page. Both are modal dialogs that keep keyboard focus and close with Escape. The disk_full
// error's "Archive or delete old model versions" opens the disk-space prompt inside the dialog (space.tsx).
import { useEffect, useRef, useState, type ReactNode } from "react";
import { get, type Action, type ErrorInfo } from "./api";
import { SpacePrompt } from "./space";

function Modal({ label, onClose, children }: { label: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>("button, a, input, select, textarea");
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault(); // the dialog's: the screen underneath (the wizard's Escape is Back) leaves it alone
        onClose();
      }
      if (e.key === "Tab" && ref.current) {
        const items = [...ref.current.querySelectorAll<HTMLElement>("button, a[href], input, select, textarea")];
        if (!items.length) return;
        const [a, z] = [items[0], items[items.length - 1]];
        if (e.shiftKey && document.activeElement === a) {
          z.focus();
          e.preventDefault();
        } else if (!e.shiftKey && document.activeElement === z) {
          a.focus();
          e.preventDefault();
        }
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      before?.focus?.();
    };
  }, [onClose]);
  return (
    <div className="backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-label={label} ref={ref}>
        {children}
      </div>
    </div>
  );
}

export function ErrorDialog(props: {
  info: ErrorInfo;
  onClose: () => void;
  onAction?: (a: Action) => boolean | Promise<boolean>;
  extraActions?: { label: string; run: () => void }[];
  // what the disk-space prompt's Try again does once the dialog is closed: repeat what ran short (a failure
  // again opens its own dialog)
  onTryAgain?: () => unknown;
}) {
  const { info, onClose, onAction, extraActions, onTryAgain } = props;
  const [steps, setSteps] = useState<Action | null>(null);
  const [help, setHelp] = useState(false);
  const [space, setSpace] = useState(false);
  const tryAgain = onTryAgain && (() => { onClose(); onTryAgain(); });
  return (
    <Modal label={info.title} onClose={onClose}>
      <h2 className="error-title">{info.title}</h2>
      <p dir="auto">{info.explanation}</p>
      <div className="actions">
        {info.actions.slice(0, 3).map((a) => (
          <button
            key={a.label}
            type="button"
            className={a.fix_id ? "primary" : ""}
            onClick={async () => {
              if (a.fix_id === "free_space") setSpace(true);
              else if (a.fix_id && onAction && (await onAction(a))) onClose();
              else setSteps(a);
            }}
          >
            {a.label}
          </button>
        ))}
        {!space && extraActions?.map((x) => (
          <button key={x.label} type="button" className="primary" onClick={() => { x.run(); onClose(); }}>
            {x.label}
          </button>
        ))}
      </div>
      {space && <SpacePrompt details={info.details} onTryAgain={tryAgain} />}
      {steps && steps.steps.length > 0 && (
        <ol className="steps" aria-label={`How to: ${steps.label}`}>
          {steps.steps.map((s) => <li key={s}>{s}</li>)}
        </ol>
      )}
      <div className="actions">
        <button type="button" className="link" onClick={() => setHelp(true)}>Get help</button>
        <button type="button" onClick={onClose}>Close</button>
      </div>
      {help && <HelpDialog topic={info.help_url || info.code} onClose={() => setHelp(false)} />}
    </Modal>
  );
}

export function HelpDialog({ topic, onClose }: { topic: string; onClose: () => void }) {
  const [text, setText] = useState("Loading…");
  useEffect(() => {
    get<{ markdown: string }>(`/api/help/${encodeURIComponent(topic)}`)
      .then((r) => setText(r.markdown))
      .catch(() => setText("This help page is not available."));
  }, [topic]);
  return (
    <Modal label="Help" onClose={onClose}>
      <h2>Help</h2>
      <Markdown text={text} />
      <p className="muted">From the user guide: docs/{topic.split("#")[0]}.md</p>
      <div className="actions"><button type="button" onClick={onClose}>Close</button></div>
    </Modal>
  );
}

// A small Markdown view: headings, paragraphs, lists, code blocks and inline code (text stays selectable).
export function Markdown({ text }: { text: string }) {
  const blocks: ReactNode[] = [];
  const lines = text.replace(/<a id="[^"]*"><\/a>/g, "").split("\n");
  let i = 0;
  const inline = (s: string, k: number) =>
    s.split(/(`[^`]+`)/).map((part, j) =>
      part.startsWith("`") && part.endsWith("`") ? <code key={`${k}-${j}`}>{part.slice(1, -1)}</code> : part.replace(/\*\*/g, ""),
    );
  while (i < lines.length) {
    const line = lines[i];
    if (line.startsWith("```")) {
      const code: string[] = [];
      i += 1;
      while (i < lines.length && !lines[i].startsWith("```")) code.push(lines[i++]);
      blocks.push(<pre key={i}><code>{code.join("\n")}</code></pre>);
    } else if (/^#{1,4} /.test(line)) {
      const level = line.indexOf(" ");
      const H = (`h${Math.min(level + 2, 6)}`) as "h3";
      blocks.push(<H key={i}>{inline(line.slice(level + 1), i)}</H>);
    } else if (/^\s*[-*] /.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^\s*[-*] /.test(lines[i])) items.push(lines[i++].replace(/^\s*[-*] /, ""));
      blocks.push(<ul key={i}>{items.map((t, k) => <li key={k}>{inline(t, k)}</li>)}</ul>);
      continue;
    } else if (line.trim()) {
      blocks.push(<p key={i} dir="auto">{inline(line, i)}</p>);
    }
    i += 1;
  }
  return <div className="markdown">{blocks}</div>;
}
