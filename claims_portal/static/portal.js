// Start the NHS.UK frontend components (header menu, error summary focus, ...).
import { initAll } from '/assets/nhsuk-frontend.min.js'

initAll()

// A printed page shows everything: closed "details" open for printing, and close again after.
const openedForPrint = []
window.addEventListener('beforeprint', () => {
  for (const details of document.querySelectorAll('details:not([open])')) {
    details.open = true
    openedForPrint.push(details)
  }
})
window.addEventListener('afterprint', () => {
  while (openedForPrint.length) openedForPrint.pop().open = false
})
