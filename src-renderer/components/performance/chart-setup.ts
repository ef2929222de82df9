/**
 * Chart.js for the live Performance charts: only the parts drawn are registered (line charts on
 * linear axes: no date adapter, the time axis is seconds before the newest sample), colours from
 * Element Plus's CSS variables, no animation (a point a second would keep the CPU busy redrawing).
 * Chart.js draws on a canvas and needs no inline styles or eval: it works under the strict CSP.
 */
import {
  Chart as ChartJS,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
  type ChartOptions,
} from 'chart.js';
import { WINDOW_SECONDS, secondsAgoLabel } from './series';
import { intlLocale } from '../../i18n/format';

ChartJS.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip, Filler);

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function chartColors() {
  return {
    primary: cssVar('--el-color-primary', '#409eff'),
    success: cssVar('--el-color-success', '#67c23a'),
    warning: cssVar('--el-color-warning', '#e6a23c'),
    danger: cssVar('--el-color-danger', '#f56c6c'),
    info: cssVar('--el-text-color-secondary', '#909399'),
    text: cssVar('--el-text-color-regular', '#606266'),
    grid: cssVar('--el-border-color-lighter', '#ebeef5'),
  };
}

export interface AxisSpec {
  title: string;
  /** The axis reaches at least this (e.g. 100 for percent). */
  suggestedMax?: number;
}

export function liveChartOptions(y: AxisSpec, y1?: AxisSpec, windowSeconds = WINDOW_SECONDS): ChartOptions<'line'> {
  const c = chartColors();
  return {
    // Figures (ticks, tooltips) in the current language's way.
    locale: intlLocale(),
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    parsing: false,
    normalized: true,
    spanGaps: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 2, tension: 0.15 } },
    plugins: {
      legend: { position: 'bottom', labels: { color: c.text, boxWidth: 18, boxHeight: 2, font: { size: 11 } } },
      tooltip: {
        callbacks: {
          title: (items) => secondsAgoLabel(Math.round(items[0]?.parsed.x ?? 0)),
          label: (item) => `${item.dataset.label ?? ''}: ${item.formattedValue}`,
        },
      },
    },
    scales: {
      x: {
        type: 'linear',
        min: -windowSeconds,
        max: 0,
        ticks: {
          stepSize: windowSeconds <= 60 ? 15 : windowSeconds <= 120 ? 30 : 60,
          color: c.text,
          font: { size: 10 },
          callback: (v) => secondsAgoLabel(Number(v)),
        },
        grid: { color: c.grid },
      },
      y: {
        beginAtZero: true,
        ...(y.suggestedMax !== undefined ? { suggestedMax: y.suggestedMax } : {}),
        title: { display: true, text: y.title, color: c.text, font: { size: 11 } },
        ticks: { color: c.text, font: { size: 10 } },
        grid: { color: c.grid },
      },
      ...(y1
        ? {
            y1: {
              beginAtZero: true,
              position: 'right' as const,
              ...(y1.suggestedMax !== undefined ? { suggestedMax: y1.suggestedMax } : {}),
              title: { display: true, text: y1.title, color: c.text, font: { size: 11 } },
              ticks: { color: c.text, font: { size: 10 } },
              grid: { display: false },
            },
          }
        : {}),
    },
  };
}
