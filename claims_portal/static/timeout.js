// The NHS timeout warning: a dialog shortly before an idle session ends, to stay signed in or
// sign out; when the time runs out the page signs out itself. claims_portal/session_timeout.py
// says how the server counts. Tabs share the last activity through local storage, so an idle
// tab never signs out someone working in another.
const STORAGE_KEY = 'claims-portal.session-ends'

const dialog = document.getElementById('app-timeout-warning')
if (dialog) {
  watch(dialog)
}

function watch (dialog) {
  const seconds = (name) => Number(dialog.dataset[name]) * 1000
  const idle = seconds('idleSeconds')
  const warning = seconds('warningSeconds')
  const touch = seconds('touchSeconds')
  const countdown = dialog.querySelector('[data-timeout-countdown]')
  const announce = dialog.querySelector('[data-timeout-announce]')
  const stay = dialog.querySelector('[data-timeout-stay]')
  const signOut = dialog.querySelector('[data-timeout-sign-out]')
  const csrfToken = signOut.querySelector('input[name="csrf_token"]').value

  // The server may have counted this page's activity up to `touch` earlier than now.
  let sessionEnds = Date.now() + idle - touch
  let returnFocusTo = null
  let announced = ''
  let ending = false
  let asking = false

  function sharedEnd () {
    try {
      return Number(window.localStorage.getItem(STORAGE_KEY)) || 0
    } catch {
      return 0
    }
  }

  function share (ends) {
    sessionEnds = ends
    try {
      if (ends > sharedEnd()) window.localStorage.setItem(STORAGE_KEY, String(ends))
    } catch {
      // No local storage (a private window, say): this tab counts on its own.
    }
  }

  function words (left) {
    if (left > 60000) {
      const minutes = Math.ceil(left / 60000)
      return `${minutes} minutes`
    }
    if (left > 59000) return '1 minute'
    const secs = Math.max(1, Math.ceil(left / 1000))
    return `${secs} second${secs === 1 ? '' : 's'}`
  }

  // Screen readers hear the time left when it changes by a minute, then every 20 seconds.
  function announcement (left) {
    const step = left > 60000 ? words(left) : words(Math.ceil(left / 20000) * 20000)
    return `We will sign you out in ${step}.`
  }

  function open () {
    if (dialog.open) return
    returnFocusTo = document.activeElement
    if (typeof dialog.showModal === 'function') {
      dialog.showModal()
    } else {
      dialog.setAttribute('open', '')
    }
    stay.focus()
  }

  function close () {
    if (!dialog.open) return
    if (typeof dialog.close === 'function') {
      dialog.close()
    } else {
      dialog.removeAttribute('open')
    }
    announced = ''
    if (returnFocusTo && typeof returnFocusTo.focus === 'function') returnFocusTo.focus()
  }

  function timeOut () {
    ending = true
    signOut.querySelector('[data-timeout-timed-out]').value = '1'
    signOut.submit()
  }

  function tick () {
    if (ending) return
    const left = Math.max(sessionEnds, sharedEnd()) - Date.now()
    if (left <= 0) {
      timeOut()
      return
    }
    if (left > warning) {
      close()
      return
    }
    open()
    countdown.textContent = words(left)
    const said = announcement(left)
    if (said !== announced) {
      announced = said
      announce.textContent = said
    }
  }

  async function staySignedIn () {
    if (asking) return
    asking = true
    try {
      const response = await fetch(dialog.dataset.stayUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken }
      })
      if (!response.ok) {
        // The session has already ended: the sign-in page says so.
        window.location.assign(dialog.dataset.signInUrl)
        return
      }
      const answer = await response.json()
      share(Date.now() + Math.min(idle, answer.expires_in * 1000))
      close()
    } catch {
      // Offline for a moment: the dialog stays, and the button can be pressed again.
    } finally {
      asking = false
    }
  }

  stay.addEventListener('click', staySignedIn)
  // Escape means "stay signed in", not "close and be signed out unwarned".
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault()
    staySignedIn()
  })
  window.addEventListener('storage', (event) => {
    if (event.key === STORAGE_KEY) tick()
  })

  share(sessionEnds)
  tick()
  window.setInterval(tick, 1000)
}
