// Server-Sent Events over a POST (EventSource only GETs): the playground's answers and the export's progress
// stream back on the request that asks for them. A refusal before the stream starts is a plain ApiError.
import { ApiError, type ErrorInfo } from "./api";

export async function postStream(path: string, body: unknown, onEvent: (event: string, data: any) => void, signal?: AbortSignal): Promise<void> {
  let r: Response;
  try {
    r = await fetch(path, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });
  } catch (e) {
    if (signal?.aborted) return;
    throw e;
  }
  if (!r.ok || !r.body) {
    const data = await r.json().catch(() => null);
    const info: ErrorInfo = data?.error ?? { code: "internal_error", title: "Something went wrong", explanation: `The server answered ${r.status}.`, actions: [], help_anchor: "internal-error", help_url: "errors#internal-error", details: {} };
    throw new ApiError(info, r.status);
  }
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
    }
  } catch (e) {
    if (!signal?.aborted) throw e;
  }
}
