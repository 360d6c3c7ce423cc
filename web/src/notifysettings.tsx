// The notification switches (kept in this browser), and asking the browser's permission to notify.
import { useEffect, useState } from "react";
import { desktopNotices, loadNotifyInfo, prefs, setPref, type NotifyPrefs } from "./notify";

const LABELS: [keyof NotifyPrefs, string][] = [
  ["progress", "Progress at 25, 50 and 75 %"],
  ["completion", "When a training finishes"],
  ["errors", "When a training stops with an error"],
  ["warnings", "Warnings from the guards"],
  ["sound", "A soft sound when a training finishes"],
  ["respect_do_not_disturb", "Stay quiet while Do Not Disturb is on"],
];

export function NotificationSettings() {
  const [state, setState] = useState<NotifyPrefs>(prefs());
  const [desktop, setDesktop] = useState(false);
  const [permission, setPermission] = useState(typeof Notification === "undefined" ? "unsupported" : Notification.permission);
  useEffect(() => {
    loadNotifyInfo().then(() => { setState(prefs()); setDesktop(desktopNotices()); });
  }, []);
  return (
    <details className="notify-settings">
      <summary>Notifications</summary>
      <fieldset>
        <legend className="muted">Tell me…</legend>
        {LABELS.map(([key, label]) => (
          <label key={key} className="inline">
            <input type="checkbox" checked={state[key]} onChange={(e) => { setPref(key, e.target.checked); setState(prefs()); }} /> {label}
          </label>
        ))}
      </fieldset>
      {desktop && <p className="muted" data-testid="desktop-notices">This computer's own notifications tell you (the studio runs here).</p>}
      {!desktop && permission === "default" && (
        <button type="button" onClick={() => Notification.requestPermission().then(setPermission)}>Allow browser notifications</button>
      )}
      {permission === "denied" && <p className="muted">This browser blocks notifications from the studio; the tab title still shows the progress.</p>}
    </details>
  );
}
