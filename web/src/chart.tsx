// The loss chart (uPlot): training and validation loss over steps, over the good / acceptable /
// problematic zones that the library decides (peftstudio.runs.loss_zones, sent with the run).
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Zones {
  good_below: number;
  problem_above: number;
}

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export function LossChart(props: { steps: number[]; loss: (number | null)[]; val: (number | null)[]; zones: Zones | null }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zones = useRef<Zones | null>(props.zones);
  zones.current = props.zones;

  useEffect(() => {
    if (!box.current) return;
    const zonePlugin: uPlot.Plugin = {
      hooks: {
        drawClear: (u) => {
          const z = zones.current;
          if (!z) return;
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          const y = (v: number) => Math.min(top + height, Math.max(top, u.valToPos(v, "y", true)));
          const bands: [number, number, string][] = [
            [y(z.good_below), top + height, css("--zone-good")],
            [y(z.problem_above), y(z.good_below), css("--zone-ok")],
            [top, y(z.problem_above), css("--zone-bad")],
          ];
          ctx.save();
          for (const [y0, y1, colour] of bands) {
            ctx.fillStyle = colour;
            ctx.fillRect(left, Math.min(y0, y1), width, Math.abs(y1 - y0));
          }
          ctx.restore();
        },
      },
    };
    const opts: uPlot.Options = {
      width: box.current.clientWidth || 600,
      height: 260,
      plugins: [zonePlugin],
      scales: { x: { time: false } },
      axes: [
        // steps are whole numbers: ticks at 1, 2, 5, 10, 20, 50, … never between two steps
        { label: "step", stroke: css("--text"), incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000] },
        { label: "loss", stroke: css("--text") },
      ],
      series: [
        { label: "Step" },
        { label: "Training loss", stroke: css("--accent"), width: 2, spanGaps: true },
        { label: "Validation loss", stroke: css("--warn"), width: 2, spanGaps: true, points: { show: true } },
      ],
    };
    plot.current = new uPlot(opts, [[], [], []], box.current);
    const resize = () => plot.current?.setSize({ width: box.current?.clientWidth || 600, height: 260 });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData([props.steps, props.loss, props.val] as uPlot.AlignedData);
  }, [props.steps, props.loss, props.val, props.zones]);

  const last = props.loss.filter((v) => v != null).at(-1);
  return (
    <figure className="chart">
      <div ref={box} role="img" aria-label={`Loss chart${last != null ? `, latest training loss ${last.toFixed(3)}` : ""}`} />
      <figcaption className="legend">
        <span className="swatch good" /> good <span className="swatch ok" /> acceptable <span className="swatch bad" /> problematic
      </figcaption>
    </figure>
  );
}
