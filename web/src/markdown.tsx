// Answers as markdown: marked (no dependencies, small, well kept) turns the text into HTML with raw HTML shown
// as text and only http(s)/mailto links; code blocks are highlighted by highlight.js (its core and a few common
// languages only) and each gets a Copy button. A half-streamed answer renders too (an open code fence is a
// code block until it closes).
import { useCopy } from "./clipboard";
import { Marked, type Token, type TokensList } from "marked";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

for (const [name, lang] of Object.entries({ bash, cpp, css, java, javascript, json, python, rust, sql, typescript, xml, yaml })) hljs.registerLanguage(name, lang);

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function highlight(code: string, lang?: string): string {
  const name = (lang ?? "").trim().split(/\s/)[0].toLowerCase();
  if (name && hljs.getLanguage(name)) return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
  if (code.length < 20_000) return hljs.highlightAuto(code).value;
  return escapeHtml(code);
}

const md = new Marked({
  gfm: true,
  renderer: {
    html(token) { return escapeHtml(token.text); }, // a model's HTML is shown, never run
    image(token) { return escapeHtml(token.text || token.href); }, // nothing is loaded from elsewhere
    link(token) {
      const text = this.parser.parseInline(token.tokens);
      return /^(https?:|mailto:)/i.test(token.href) ? `<a href="${escapeHtml(token.href)}" target="_blank" rel="noopener noreferrer">${text}</a>` : text;
    },
    code(token) { return `<pre><code class="hljs">${highlight(token.text, token.lang)}</code></pre>`; },
  },
});

function CodeBlock({ code, lang }: { code: string; lang?: string }) {
  const { copied, copy } = useCopy(code);
  return (
    <figure className="code">
      <figcaption><span>{lang || "code"}</span>
        <button type="button" className="small" onClick={copy} aria-label={copied ? "Copied" : `Copy ${lang || ""} code`.replace("  ", " ")}>{copied ? "Copied" : "Copy"}</button>
      </figcaption>
      <pre tabIndex={0}><code className="hljs" dangerouslySetInnerHTML={{ __html: highlight(code, lang) }} /></pre>
    </figure>
  );
}

export function Markdown({ text }: { text: string }) {
  const tokens = md.lexer(text);
  const parts: (Token[] | Token)[] = [];
  for (const t of tokens) {
    if (t.type === "code") parts.push(t);
    else if (Array.isArray(parts[parts.length - 1])) (parts[parts.length - 1] as Token[]).push(t);
    else parts.push([t]);
  }
  return (
    <div className="markdown" dir="auto">
      {parts.map((p, i) => Array.isArray(p)
        ? <div key={i} dangerouslySetInnerHTML={{ __html: md.parser(Object.assign(p, { links: tokens.links }) as TokensList) }} />
        : <CodeBlock key={i} code={(p as { text: string }).text} lang={(p as { lang?: string }).lang} />)}
    </div>
  );
}
