import { computed, type ComponentPublicInstance, type Ref } from 'vue';
import { defaultRangeExtractor, useVirtualizer, type Range, type Virtualizer } from '@tanstack/vue-virtual';

export interface VirtualRowsOptions<R> {
  rows: Ref<readonly R[]>;
  /** The element that scrolls the rows, positioned (the rows are placed in it absolutely). */
  scrollElement: Ref<HTMLElement | null>;
  key: (row: R) => string;
  /** A row's height before it is drawn and measured: near the truth, so that a jump (End) lands where it should. */
  estimate: (row: R) => number;
  /** A row drawn wherever the list is scrolled (-1: none): the one with the keyboard focus must stay in the DOM. */
  pinned: Ref<number>;
}

let assumedHeight: number | null = null;

/**
 * The list's height to assume before it is laid out (null: the window's). A window drawn by the
 * server assumed one (it has no window), and the page, taking that window over, must draw the same
 * rows at first.
 */
export function assumeListHeight(height: number | null): void {
  assumedHeight = height;
}

/** Rows beyond the screen drawn ahead, each way: a wheel turn or Page Down shows drawn rows at once. */
const OVERSCAN = 6;

/**
 * A long list that draws only the rows on screen (and a few either side), with TanStack Virtual:
 * 200 machines cost the first render of ~20 rows. Each drawn row is placed at `start` (its
 * `translateY`) and measured once laid out (`measure`, as its ref), margin included; the list is as
 * tall as `totalSize`.
 */
export function useVirtualRows<R>(options: VirtualRowsOptions<R>) {
  const virtualizer = useVirtualizer(
    computed(() => {
      const rows = options.rows.value;
      const pinned = options.pinned.value;
      return {
        count: rows.length,
        getScrollElement: () => options.scrollElement.value,
        getItemKey: (i: number) => options.key(rows[i]!),
        estimateSize: (i: number) => options.estimate(rows[i]!),
        overscan: OVERSCAN,
        // The list's height is not known before it is laid out: the window's, rather than none, so
        // that the rows are drawn in the first render, not in one after it.
        initialRect: { width: 0, height: assumedHeight ?? window.innerHeight },
        rangeExtractor: (range: Range) => withPinned(defaultRangeExtractor(range), pinned, rows.length),
        measureElement: rowHeight,
      };
    }),
  );
  const shown = computed(() =>
    virtualizer.value.getVirtualItems().map((item) => ({ row: options.rows.value[item.index]!, index: item.index, start: item.start })),
  );
  const totalSize = computed(() => virtualizer.value.getTotalSize());
  /** The ref of a drawn row (its element or its component): measured now and whenever it resizes. */
  function measure(ref: Element | ComponentPublicInstance | null): void {
    const el = ref instanceof Element ? ref : (ref?.$el as Element | undefined);
    if (el instanceof Element) virtualizer.value.measureElement(el);
  }
  return { shown, totalSize, measure };
}

/**
 * A row's height with its top margin. Only from the ResizeObserver, which reports it after the
 * browser's own layout: asked when a row is drawn (no entry), it gives what it knew, since measuring
 * then would force a layout of the half-built window (~20 ms of the first render).
 */
function rowHeight(el: Element, entry: ResizeObserverEntry | undefined, list: Virtualizer<HTMLElement, Element>): number {
  if (!entry) {
    const index = list.indexFromElement(el);
    return list.itemSizeCache.get(list.options.getItemKey(index)) ?? list.options.estimateSize(index);
  }
  const height = entry.borderBoxSize[0]?.blockSize ?? el.getBoundingClientRect().height;
  return height + parseFloat(getComputedStyle(el).marginTop);
}

function withPinned(indexes: number[], pinned: number, count: number): number[] {
  if (pinned < 0 || pinned >= count || indexes.includes(pinned)) return indexes;
  return [...indexes, pinned].sort((a, b) => a - b);
}
