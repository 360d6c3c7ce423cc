// Progress where the person is: the tab title, the browser's notifications at the library's milestones
// (25/50/75 %) and at the end, urgently on an error, and a soft sound on completion. The switches are the
// library's (peftstudio.notify.NotifySettings), saved on the server (and in this browser); the desktop's
// Do Not Disturb is respected when the studio runs on this person's own computer. There the server sends
// the library's desktop notifications and plays the sound itself, so the page does not say it twice.
import { get, put, type NotifySwitches } from "./api";

export interface NotifyPrefs {
  progress: boolean;
  completion: boolean;
  errors: boolean;
  warnings: boolean;
  sound: boolean;
  respect_do_not_disturb: boolean;
}

interface NotifyInfo {
  milestones: number[];
  defaults: NotifyPrefs;
  do_not_disturb: { on: boolean } | null;
  desktop_notices?: boolean;
}

const KEY = "peftstudio.notifications";
const FALLBACK: NotifyInfo = {
  milestones: [25, 50, 75],
  defaults: { progress: true, completion: true, errors: true, warnings: true, sound: true, respect_do_not_disturb: true },
  do_not_disturb: null,
};
let info: NotifyInfo = FALLBACK;
let loaded: Promise<void> | null = null;

export function loadNotifyInfo(): Promise<void> {
  loaded ??= get<NotifyInfo>("/api/notifications").then((i) => { info = i; }).catch(() => {});
  return loaded;
}

export function prefs(): NotifyPrefs {
  try {
    return { ...info.defaults, ...JSON.parse(localStorage.getItem(KEY) || "{}") };
  } catch {
    return info.defaults;
  }
}

export function setPref(key: keyof NotifyPrefs, on: boolean): Promise<unknown> {
  localStorage.setItem(KEY, JSON.stringify({ ...prefs(), [key]: on }));
  return put("/api/notifications/settings", { [key]: on } satisfies NotifySwitches).catch(() => {});
}

/** The server tells this desktop itself (the library's notifications): the page stays quiet. */
export function desktopNotices(): boolean {
  return !!info.desktop_notices;
}

function quiet(): boolean {
  return prefs().respect_do_not_disturb && !!info.do_not_disturb?.on;
}

export function setTitle(fraction: number | null, status: string) {
  const base = "PEFT Studio";
  if (status === "completed") document.title = `✓ Done · ${base}`;
  else if (status === "failed") document.title = `⚠ Stopped · ${base}`;
  else if (status === "paused") document.title = `⏸ Paused · ${base}`;
  else if (fraction != null) document.title = `${Math.floor(fraction * 100)}% · ${base}`;
  else document.title = base;
}

export function chime() {
  if (!prefs().sound || quiet() || desktopNotices()) return;
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 660;
    gain.gain.setValueAtTime(0.0001, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.08, ctx.currentTime + 0.05);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.8);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.8);
  } catch {
    /* no audio here: nothing to do */
  }
}

function show(kind: "progress" | "completion" | "errors" | "warnings", title: string, body: string, urgent = false) {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  if (!prefs()[kind] || (!urgent && quiet()) || desktopNotices()) return;
  if (!urgent && document.visibilityState === "visible") return; // the page itself shows it
  new Notification(title, { body, requireInteraction: urgent });
}

export class Milestones {
  private passed = new Set<number>();
  constructor(private name: string) {}
  private marks() {
    return info.milestones.map((m) => m / 100);
  }
  skipTo(fraction: number) {
    this.marks().filter((m) => m <= fraction).forEach((m) => this.passed.add(m));
  }
  progress(fraction: number) {
    for (const m of this.marks()) {
      if (fraction >= m && !this.passed.has(m)) {
        this.passed.add(m);
        show("progress", `${Math.round(m * 100)}% done`, `${this.name} is ${Math.round(m * 100)}% trained.`);
      }
    }
  }
  completed() {
    show("completion", "Training finished", `${this.name} is done.`);
    chime();
  }
  warning(title: string) {
    show("warnings", title, this.name);
  }
  failed(title: string) {
    show("errors", "Training stopped", `${this.name}: ${title}`, true);
  }
}
