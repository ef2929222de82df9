/**
 * A delay that something can end early: a loop that polls waits at most `ms` for its next look, and
 * an event that makes the look worth taking at once wakes it. A wake while nothing waits is kept for
 * the next wait, so an event that comes between a look and the wait after it is not lost.
 */
export class WakeableDelay {
  private woken = false;
  private endWait: (() => void) | null = null;

  wake(): void {
    if (this.endWait) this.endWait();
    else this.woken = true;
  }

  wait(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.endWait = null;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.endWait = end;
    });
  }
}
