import { createRenderer, defineComponent, nextTick, ref } from 'vue';
import { describe, expect, it } from 'vitest';
import { openedOnce, watchOpen } from './lazy-dialogs';

describe('openedOnce', () => {
  it('is false until the dialog first opens, then stays true when it closes and opens again', () => {
    const open = ref(false);
    const opened = openedOnce(() => open.value);
    expect(opened.value).toBe(false);
    open.value = true;
    expect(opened.value).toBe(true);
    open.value = false;
    expect(opened.value).toBe(true);
  });

  it('stops reading the condition once it has seen it true', () => {
    let reads = 0;
    const open = ref(true);
    const opened = openedOnce(() => {
      reads++;
      return open.value;
    });
    expect(opened.value).toBe(true);
    open.value = false;
    open.value = true;
    expect(opened.value).toBe(true);
    expect(reads).toBe(1);
  });
});

// Vue's own renderer over nothing: enough to run a component's set-up and its onMounted, without a DOM.
const { createApp } = createRenderer<object, object>({
  patchProp: () => undefined,
  insert: () => undefined,
  remove: () => undefined,
  createElement: () => ({}),
  createText: () => ({}),
  createComment: () => ({}),
  setText: () => undefined,
  setElementText: () => undefined,
  parentNode: () => null,
  nextSibling: () => null,
});

describe('watchOpen', () => {
  it('in a dialog mounted already open, runs once for that opening, then on each change', async () => {
    const subject = ref<string | null>('first');
    const seen: (string | null)[] = [];
    const Dialog = defineComponent({
      setup() {
        watchOpen(subject, (s) => seen.push(s));
        return () => null;
      },
    });
    createApp(Dialog).mount({});
    expect(seen).toEqual(['first']);
    subject.value = null;
    await nextTick();
    subject.value = 'second';
    await nextTick();
    expect(seen).toEqual(['first', null, 'second']);
  });

  it('outside a component, is a plain watch: each change, not the value it starts with', async () => {
    const subject = ref<string | null>('first');
    const seen: (string | null)[] = [];
    watchOpen(subject, (s) => seen.push(s));
    await nextTick();
    expect(seen).toEqual([]);
    subject.value = null;
    await nextTick();
    subject.value = 'second';
    await nextTick();
    expect(seen).toEqual([null, 'second']);
  });
});
