import { onBeforeUnmount, ref } from 'vue'

// usePoll runs fn every interval milliseconds while active() says so, one call at a time:
// the next call is scheduled only after the previous one has finished.
export function usePoll(fn: () => Promise<void>, active: () => boolean, interval = 3000) {
  const polling = ref(false)
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  function schedule() {
    clearTimeout(timer)
    polling.value = !stopped && active()
    if (polling.value) {
      timer = setTimeout(async () => {
        try {
          await fn()
        } finally {
          schedule()
        }
      }, interval)
    }
  }

  onBeforeUnmount(() => {
    stopped = true
    clearTimeout(timer)
  })
  return { polling, schedule }
}
