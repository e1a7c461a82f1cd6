import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ROOT } from './runtime.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  /** file:line, relative to the repository (node_modules/... for dependencies). */
  where: string;
  /** Share of the window's non-idle samples. */
  selfPercent: number;
  selfMs: number;
}

export interface ProfileSummary {
  /** Samples inside the window, ms. */
  windowMs: number;
  /** Share of the window the process was busy (not "(idle)"). */
  busyPercent: number;
  top: HotFunction[];
  /** Self time grouped by package / our source directory. */
  byArea: { area: string; selfPercent: number }[];
}

function areaOf(url: string): string {
  if (!url) return '(native/vm)';
  const path = url.replace(/^file:\/\//, '');
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (nm) return nm[1];
  if (path.startsWith('node:')) return `node:${path.slice(5).split('/')[0]}`;
  const rel = relative(ROOT, path);
  const parts = rel.split('/');
  if (parts[0] === 'dist') parts.shift();
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.join('/');
}

/**
 * Self time per function of a --cpu-prof file, restricted to a CLOCK_MONOTONIC window (µs; V8's
 * profile timestamps use the same clock on Linux), so a burst is not drowned by boot.
 */
export function summarizeProfile(file: string, window?: { fromUs: number; toUs: number }, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  let idle = 0;
  const inWindow = window && window.toUs > profile.startTime && window.fromUs < profile.endTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (inWindow && (t < window.fromUs || t > window.toUs)) continue;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    total += delta;
    if (node.callFrame.functionName === '(idle)') {
      idle += delta;
      continue;
    }
    self.set(node.id, (self.get(node.id) ?? 0) + delta);
  }
  const busy = total - idle;
  const byFunction = new Map<string, HotFunction>();
  const byArea = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const path = frame.url.replace(/^file:\/\//, '');
    const where = frame.url ? `${relative(ROOT, path)}:${frame.lineNumber + 1}` : '';
    const name = frame.functionName || '(anonymous)';
    const key = `${name} ${where}`;
    const entry = byFunction.get(key) ?? { name, where, selfPercent: 0, selfMs: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
    const area = areaOf(frame.url);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const top = [...byFunction.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, topN)
    .map((entry) => ({ ...entry, selfMs: Math.round(entry.selfMs), selfPercent: Math.round((entry.selfMs / (busy / 1000)) * 1000) / 10 }));
  return {
    windowMs: Math.round(total / 1000),
    busyPercent: total ? Math.round((busy / total) * 1000) / 10 : 0,
    top,
    byArea: [...byArea.entries()]
      .map(([area, us]) => ({ area, selfPercent: Math.round((us / busy) * 1000) / 10 }))
      .sort((a, b) => b.selfPercent - a.selfPercent)
      .slice(0, 12),
  };
}

export function formatProfile(title: string, summary: ProfileSummary): string {
  const lines = [`${title}: ${summary.windowMs} ms sampled, busy ${summary.busyPercent} %`];
  lines.push(`  by area: ${summary.byArea.map((a) => `${a.area} ${a.selfPercent}%`).join(', ')}`);
  for (const fn of summary.top) lines.push(`  ${String(fn.selfPercent).padStart(5)} %  ${fn.name}  ${fn.where}`);
  return lines.join('\n');
}
