// Progress where the person is: the tab title, the browser's notifications at 25/50/75/100 % and on an
// error (when allowed), and a soft sound on completion (with an off switch kept in this browser).

const MILESTONES = [0.25, 0.5, 0.75];

export function setTitle(fraction: number | null, status: string) {
  const base = "PEFT Studio";
  if (status === "completed") document.title = `✓ Done · ${base}`;
  else if (status === "failed") document.title = `⚠ Stopped · ${base}`;
  else if (status === "paused") document.title = `⏸ Paused · ${base}`;
  else if (fraction != null) document.title = `${Math.floor(fraction * 100)}% · ${base}`;
  else document.title = base;
}

export function soundOn(): boolean {
  return localStorage.getItem("peftstudio.sound") !== "off";
}

export function setSound(on: boolean) {
  localStorage.setItem("peftstudio.sound", on ? "on" : "off");
}

export function chime() {
  if (!soundOn()) return;
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

function show(title: string, body: string, urgent = false) {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  if (!urgent && document.visibilityState === "visible") return; // the page itself shows it
  new Notification(title, { body, requireInteraction: urgent });
}

export class Milestones {
  private passed = new Set<number>();
  constructor(private name: string) {}
  skipTo(fraction: number) {
    MILESTONES.filter((m) => m <= fraction).forEach((m) => this.passed.add(m));
  }
  progress(fraction: number) {
    for (const m of MILESTONES) {
      if (fraction >= m && !this.passed.has(m)) {
        this.passed.add(m);
        show(`${Math.round(m * 100)}% done`, `${this.name} is ${Math.round(m * 100)}% trained.`);
      }
    }
  }
  completed() {
    show("Training finished", `${this.name} is done.`);
    chime();
  }
  failed(title: string) {
    show("Training stopped", `${this.name}: ${title}`, true);
  }
}
