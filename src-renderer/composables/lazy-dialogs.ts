/**
 * Dialogs mounted when first opened. The main window loads the code of a dialog (the wizard,
 * Settings, Clone…) only when the user first opens it, and mounts it then, already open; it stays
 * mounted afterwards (its closing animation, its last tab). Nothing of them is parsed before the
 * machine list shows.
 */
import {
  computed,
  defineAsyncComponent,
  getCurrentInstance,
  markRaw,
  onMounted,
  watch,
  type AsyncComponentLoader,
  type Component,
  type ComputedRef,
  type WatchSource,
} from 'vue';

/** True from the first time `isOpen()` is true on: the dialog is mounted from then on. */
export function openedOnce(isOpen: () => boolean): ComputedRef<boolean> {
  let seen = false;
  // Once seen, the computed no longer reads isOpen(): it has no dependency left and never changes again.
  return computed(() => (seen ||= isOpen()));
}

export interface LazyDialog {
  component: Component;
  /** Mounted from its first opening on. */
  mounted: ComputedRef<boolean>;
  props: Record<string, string>;
}

/** A dialog whose code is loaded when `open()` is first true, mounted from then on with `props`. */
export function lazyDialog(dialog: {
  load: AsyncComponentLoader<Component>;
  open: () => boolean;
  props?: Record<string, string>;
}): LazyDialog {
  return { component: markRaw(defineAsyncComponent<Component>(dialog.load)), mounted: openedOnce(dialog.open), props: dialog.props ?? {} };
}

/**
 * `watch(source, cb)` for what a dialog does when it opens (fill its form, load its data), run once
 * more when the component mounts: a dialog mounted on its first opening would otherwise miss that
 * opening, its source having changed before it existed. Outside a component it is a plain watch.
 */
export function watchOpen<T>(source: WatchSource<T>, cb: (value: T) => unknown): void {
  watch(source, (value) => void cb(value));
  if (getCurrentInstance()) onMounted(() => void cb(typeof source === 'function' ? source() : source.value));
}
