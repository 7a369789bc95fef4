// A running job's page: every few seconds, how far the job has got, read from
// /jobs/<id>/progress and said in the page's status region (aria-live, text only); once the
// job has ended, its summary and the link to what it did. Without scripts, the page's own
// "Update it now" link does the same.
const region = document.querySelector('[data-progress-url]')
const result = document.querySelector('[data-job-result]')

async function update () {
  let progress
  try {
    const response = await fetch(region.dataset.progressUrl, {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin'
    })
    if (!response.ok) return true // signed out or gone: stop asking
    progress = await response.json()
  } catch {
    return false // the network, for a moment: ask again
  }
  if (progress.ended) {
    region.textContent = `${progress.outcome}: ${progress.summary}.`
    if (result) result.hidden = false
    return true
  }
  region.textContent = progress.status === 'QUEUED'
    ? 'Waiting to start.'
    : `${progress.done} of ${progress.total} done so far.`
  return false
}

if (region) {
  const every = Number(region.dataset.every || 3) * 1000
  const tick = async () => {
    if (!(await update())) setTimeout(tick, every)
  }
  setTimeout(tick, every)
}
