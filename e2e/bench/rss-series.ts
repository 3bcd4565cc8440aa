import { rss } from './measure.js';

/** A process's resident memory over time: samples since the recording began, and labelled moments. */
export interface RssSeries {
  everyMs: number;
  /** [seconds since the recording began, RSS in MiB] */
  samples: [number, number][];
  marks: { seconds: number; label: string }[];
}

/**
 * Samples the RSS of `pid` every `everyMs` until stop() (and once more then); mark() labels the moment
 * a phase begins, so the plot shows what the memory answered to.
 */
export function recordRss(
  pid: number,
  everyMs = 1000,
): { mark: (label: string) => void; stop: () => RssSeries } {
  const start = Date.now();
  const out: RssSeries = { everyMs, samples: [], marks: [] };
  const seconds = (): number => Math.round((Date.now() - start) / 100) / 10;
  const sample = (): void => {
    try {
      out.samples.push([seconds(), Math.round(rss(pid).rss * 10) / 10]);
    } catch {
      // The process exited: the series ends where it did.
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    mark: (label) => out.marks.push({ seconds: seconds(), label }),
    stop: () => {
      clearInterval(timer);
      sample();
      return out;
    },
  };
}
