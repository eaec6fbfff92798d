/* koerier: resumable uploads over tus 1.0.0, enhancing the plain form#upload.
   Without this script (or without the APIs it needs) the multipart form works as before. */
(function () {
  'use strict';

  const CHUNK = 64 * 1024 * 1024;       // bytes per PATCH; the server acknowledges whole 64 KiB pieces
  const BACKOFF = [1, 2, 4, 8, 16, 30];  // seconds between retries; the last step repeats
  const MAX_RETRIES = 20;                // then the file is marked failed and gets a retry button
  const IDLE_MS = 60000;                 // abort a PATCH whose body has not moved for this long
  const SPEED_WINDOW_MS = 5000;          // moving average for speed and time left
  const GONE = [401, 403, 404, 410];     // the capability no longer works: stop everything
  const STOPPED = { kind: 'stopped' };   // thrown when pause or cancel ends a run
  const FALLBACK = {
    drop: 'Drag files here or', choose: 'choose files', pause: 'Pause', resume: 'Resume',
    cancel: 'Cancel', retry: 'Try again', remove: 'Remove', total: 'Total', waiting: 'Waiting',
    uploading: 'Uploading', paused: 'Paused', done: 'Done', failed: 'Failed',
    retrying: 'Trying again in {seconds} s', speed: '{rate}/s, {left} left',
    unfinished_title: 'Unfinished uploads', unfinished_hint: 'Choose the same file again to continue',
    resumed: '{name} continues from {offset}', all_done: 'All documents have been uploaded',
    refused: '{name} cannot be added: {reason}', offline: 'Connection lost; trying again in {seconds} s'
  };

  let form, input, choose, zone, banner, list, live, totalBox, totalBar, totalText;
  let tusUrl, capability, doneUrl, lang = 'en', texts = {}, decimal, integer, pctFormat;
  let prefix = null, unfinished = [], unfinishedList = null, ready;
  let jobs = [], current = null, checks = Promise.resolve();
  let stopped = false, allDone = false, doneTimer = null;

  // ---------- texts, formatting, DOM helpers ----------
  function t(key, vars = {}) {
    const text = typeof texts[key] === 'string' ? texts[key] : FALLBACK[key];
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? vars[name] : whole));
  }
  function human(bytes) { // 1000 base as the server's pages, one decimal, the page language's separator
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let value = bytes, i = 0;
    while (value >= 1000 && i < units.length - 1) { value /= 1000; i += 1; }
    return (i ? decimal : integer).format(value) + '\u00a0' + units[i];
  }
  function unit(value, name) {
    return new Intl.NumberFormat(lang, { style: 'unit', unit: name, unitDisplay: 'short' }).format(value);
  }
  function duration(seconds) {
    const s = Math.max(1, Math.ceil(seconds));
    if (s < 60) return unit(s, 'second');
    if (s < 3600) return unit(Math.ceil(s / 60), 'minute');
    return unit(Math.floor(s / 3600), 'hour') + ' ' + unit(Math.floor((s % 3600) / 60), 'minute');
  }
  function el(tag, props = {}, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  }
  // A button whose accessible name also carries the file name ("Pause a.pdf").
  function button(label, fileName, onClick) {
    const node = el('button', { type: 'button' }, label,
      el('span', { className: 'visually-hidden', textContent: ' ' + fileName }));
    node.addEventListener('click', onClick);
    return node;
  }
  function bar(label, value) {
    const node = el('progress', { max: 100, value });
    node.setAttribute('aria-label', label); // the ariaLabel property is missing in older Firefox
    return node;
  }
  // Polite announcements: state changes and every 25 %, never every percent.
  function announce(message) {
    live.append(el('span', { textContent: message + ' ' }));
    while (live.childNodes.length > 3) live.firstChild.remove();
  }
  function showBanner(message, className) {
    Object.assign(banner, { className, textContent: message, hidden: false });
    announce(message);
  }

  // ---------- localStorage: upload URL by hash(capability) + name + size + lastModified ----------
  async function storagePrefix() {
    try {
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(capability));
      const hex = Array.from(new Uint8Array(digest).slice(0, 12), b => b.toString(16).padStart(2, '0'));
      localStorage.getItem('koerier-tus'); // throws where storage is blocked
      return 'koerier-tus:' + hex.join('') + ':';
    } catch {
      return null; // no WebCrypto or no storage: resume by name and size only
    }
  }
  function safely(fn) { try { return fn(); } catch { return null; } }
  function keyFor(file) { return prefix + JSON.stringify([file.name, file.size, file.lastModified]); }
  function remember(job) { if (prefix) safely(() => localStorage.setItem(keyFor(job.file), job.url)); }
  function forget(job) { if (prefix) safely(() => localStorage.removeItem(keyFor(job.file))); }
  function stored() { // [key, url] pairs of this page's capability
    const keys = (prefix && safely(() => Object.keys(localStorage))) || [];
    return keys.filter(key => key.startsWith(prefix)).map(key => [key, localStorage.getItem(key)]);
  }

  // ---------- HTTP ----------
  // Resolves with the finished XMLHttpRequest; status 0 means network error, timeout or abort.
  function send(method, url, { job, headers = {}, body = null, onProgress } = {}) {
    return new Promise(resolve => {
      const xhr = new XMLHttpRequest();
      let idle;
      const watchdog = () => { clearTimeout(idle); idle = setTimeout(() => xhr.abort(), IDLE_MS); };
      xhr.open(method, url);
      xhr.tusMethod = method;
      xhr.setRequestHeader('Tus-Resumable', '1.0.0');
      xhr.setRequestHeader('Authorization', 'Bearer ' + capability); // the capability, never a cookie
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      if (body) {
        xhr.upload.onprogress = event => { watchdog(); onProgress(event.loaded); };
        xhr.upload.onload = () => clearTimeout(idle); // all sent: the server may take its time to check
        watchdog();
      } else xhr.timeout = 30000;
      xhr.onloadend = () => { clearTimeout(idle); resolve(xhr); };
      if (job) job.xhr = xhr;
      xhr.send(body);
    });
  }
  async function call(job, token, method, url, options) {
    const xhr = await send(method, url, { ...options, job });
    if (job.token !== token) throw STOPPED;
    return xhr;
  }
  function retryAfter(xhr) { // seconds, from a number or an HTTP date; 0 when absent or unreadable
    const value = (xhr.getResponseHeader('Retry-After') || '').trim();
    const seconds = /^\d+$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
    return value && Number.isFinite(seconds) ? Math.min(Math.max(Math.ceil(seconds), 1), 3600) : 0;
  }
  // An unwanted answer as { kind: retry | gone | refused | failed, reason }.
  function problem(xhr, clientErrorKind = 'refused') {
    const status = xhr.status;
    if (status === 0 || status === 429 || status >= 500) {
      return { kind: 'retry', after: retryAfter(xhr), offline: status === 0 };
    }
    const plain = /^text\/plain/i.test(xhr.getResponseHeader('Content-Type') || '');
    const reason = (plain && xhr.responseText.trim()) || t('failed') + ' (' + status + ')';
    if (GONE.includes(status)) return { kind: 'gone', reason, status };
    return { kind: status >= 400 && status < 500 ? clientErrorKind : 'failed', reason };
  }
  function offsetOf(xhr, job) {
    const raw = xhr.getResponseHeader('Upload-Offset') || '';
    if (!/^\d+$/.test(raw)) throw { kind: 'retry' };
    if (Number(raw) > job.size) throw { kind: 'failed' };
    return Number(raw);
  }

  // ---------- tus steps ----------
  // GET /tus/check before a single byte is sent: 204 accepted, 4xx a sentence for the user.
  async function checkName(job, token) {
    const xhr = await send('GET', tusUrl + '/check?name=' + encodeURIComponent(job.file.name), { job });
    if (token && job.token !== token) throw STOPPED;
    if (xhr.status !== 204 && xhr.status !== 200) throw problem(xhr);
    job.checked = true;
  }
  function base64(text) {
    return btoa(Array.from(new TextEncoder().encode(text), b => String.fromCharCode(b)).join(''));
  }
  async function create(job, token) {
    const metadata = 'filename ' + base64(job.file.name) + ',lastModified ' + base64(String(job.file.lastModified));
    const xhr = await send('POST', tusUrl, { job, headers: { 'Upload-Length': String(job.size), 'Upload-Metadata': metadata } });
    const location = xhr.getResponseHeader('Location');
    if (xhr.status === 201 && location) {
      // A POST is never aborted, so every upload created is known here and can be cleaned up.
      Object.assign(job, { url: new URL(location, document.baseURI).href, offset: 0, complete: false });
      remember(job);
      if (!jobs.includes(job)) discard(job); // cancelled while the POST was under way
      const replaced = unfinished.find(u => u.name === job.file.name); // the server started it over
      if (replaced) dropUnfinished(replaced);
    }
    if (job.token !== token) throw STOPPED;
    if (!job.url) throw problem(xhr);
  }
  async function head(job, token) {
    const xhr = await call(job, token, 'HEAD', job.url);
    if (xhr.status !== 200 && xhr.status !== 204) throw problem(xhr, 'failed');
    const offset = offsetOf(xhr, job);
    // An upload begun by another door (sftp) has no length yet: this file declares it.
    const declare = xhr.getResponseHeader('Upload-Defer-Length') === '1';
    Object.assign(job, { offset, declare, complete: !declare && offset === job.size, needHead: false, samples: [] });
    progress(job, offset, true);
  }
  async function patch(job, token) {
    const from = job.offset;
    const body = job.file.slice(from, from + CHUNK);
    const xhr = await call(job, token, 'PATCH', job.url, {
      headers: Object.assign({ 'Upload-Offset': String(from), 'Content-Type': 'application/offset+octet-stream' },
        job.declare ? { 'Upload-Length': String(job.size) } : {}),
      body, onProgress: sent => progress(job, from + sent)
    });
    if (xhr.status === 409 && (job.conflicts += 1) <= 3) return head(job, token); // wrong offset: ask
    if (xhr.status === 422) throw problem(xhr); // the server refused the content: final, no retry
    if (xhr.status !== 204 && xhr.status !== 200) throw problem(xhr, 'failed');
    // Only whole sealed 64 KiB pieces count: the new offset may be short of from + body.size.
    const to = offsetOf(xhr, job);
    if (to <= from && body.size > 0) throw { kind: 'retry' };
    Object.assign(job, { offset: to, complete: to === job.size, declare: false, attempt: 0, conflicts: 0 });
    progress(job, to, true);
  }
  async function transfer(job, token) {
    if (!job.url) {
      if (!job.checked) await checkName(job, token);
      await create(job, token);
    } else if (job.needHead) {
      await head(job, token);
    }
    while (!job.complete) await patch(job, token);
  }
  function discard(job) { send('DELETE', job.url); forget(job); } // termination: drop the unfinished document

  // ---------- one item per file ----------
  function makeJob(file) {
    const job = {
      file, size: file.size, state: 'waiting', url: null, offset: 0, shown: 0, quarter: 0, samples: [],
      shownAt: 0, checked: false, needHead: false, complete: false, attempt: 0, conflicts: 0
    };
    job.bar = bar(file.name, 0);
    job.stateEl = el('span', { className: 'state' });
    job.speedEl = el('span', { className: 'speed' });
    job.errorEl = el('p', { className: 'error', hidden: true });
    job.toggle = button(t('pause'), file.name, () => togglePause(job));
    job.retry = button(t('retry'), file.name, () => retry(job));
    job.cancel = button(t('cancel'), file.name, () => cancel(job));
    job.li = el('li', {},
      el('p', {}, el('span', { className: 'name', textContent: file.name }), ' ',
        el('span', { className: 'size', textContent: human(file.size) })),
      job.bar, el('p', { className: 'status' }, job.stateEl, ' ', job.speedEl), job.errorEl,
      el('p', { className: 'actions' }, job.toggle, job.retry, job.cancel));
    list.append(job.li);
    setState(job, 'waiting', true);
    return job;
  }
  function renderButtons(job) {
    const state = job.state, hadFocus = job.li.contains(document.activeElement);
    job.toggle.firstChild.nodeValue = t(state === 'paused' ? 'resume' : 'pause');
    job.cancel.firstChild.nodeValue = t(state === 'refused' ? 'remove' : 'cancel');
    job.toggle.hidden = stopped || !['waiting', 'uploading', 'paused'].includes(state);
    job.retry.hidden = stopped || state !== 'failed';
    job.cancel.hidden = stopped || state === 'done';
    if (hadFocus && document.activeElement.hidden) { // keep the keyboard user's place
      ([job.toggle, job.retry, job.cancel].find(b => !b.hidden) || choose).focus();
    }
  }
  function setState(job, state, quiet) {
    job.state = state;
    job.stateEl.textContent = state === 'refused' ? '' : t(state);
    job.speedEl.textContent = '';
    job.errorEl.hidden = true;
    job.bar.hidden = state === 'refused';
    renderButtons(job);
    updateTotal();
    if (!quiet) announce(job.file.name + ': ' + t(state));
  }
  // Refused: the server said no (never uploaded, or its content turned down); failed: may be retried.
  function endWith(job, state, reason) {
    const refused = state === 'refused';
    if (refused && job.url) discard(job);
    if (refused) job.url = null;
    setState(job, state, true);
    const message = refused ? t('refused', { name: job.file.name, reason }) : reason || '';
    Object.assign(job.errorEl, { textContent: message, hidden: !message });
    announce(refused ? message : job.file.name + ': ' + t('failed') + (reason ? '. ' + reason : ''));
  }
  function progress(job, bytes, quiet) { // quiet: an acknowledged offset, not bytes in flight
    const pct = job.size ? Math.min(100, (bytes / job.size) * 100) : 100;
    const quarter = Math.floor(pct / 25);
    if (!quiet && quarter > job.quarter && quarter < 4) announce(job.file.name + ': ' + pctFormat.format(quarter / 4));
    job.quarter = quiet ? quarter : Math.max(job.quarter, quarter);
    job.shown = bytes;
    job.bar.value = pct;
    updateTotal();
    if (job.state !== 'uploading') return;
    const now = performance.now(), samples = job.samples;
    samples.push([now, bytes]);
    while (now - samples[0][0] > SPEED_WINDOW_MS) samples.shift();
    if (now - job.shownAt < 1000 && !quiet) return; // text at most once a second
    job.shownAt = now;
    const rate = (bytes - samples[0][1]) / ((now - samples[0][0]) / 1000);
    job.stateEl.textContent = t('uploading') + ' ' + pctFormat.format(pct / 100);
    job.speedEl.textContent = rate > 0 ? t('speed', { rate: human(rate), left: duration((job.size - bytes) / rate) }) : '';
  }
  function updateTotal() {
    const accepted = jobs.filter(job => job.state !== 'refused');
    const size = accepted.reduce((sum, job) => sum + job.size, 0);
    const sent = accepted.reduce((sum, job) => sum + (job.state === 'done' ? job.size : job.shown), 0);
    totalBox.hidden = !accepted.length;
    totalBar.value = size ? (sent / size) * 100 : 100;
    totalText.textContent = human(sent) + ' / ' + human(size);
  }

  // ---------- the queue ----------
  // Waits before a retry, counting down in the item; pause or the `online` event ends it early.
  function countdown(job, seconds, offline) {
    const key = offline || navigator.onLine === false ? 'offline' : 'retrying';
    announce(job.file.name + ': ' + t(key, { seconds }));
    job.speedEl.textContent = '';
    return new Promise(resolve => {
      let left = seconds;
      job.wake = () => { clearTimeout(job.timer); job.wake = null; resolve(); };
      (function tick() {
        if (left <= 0) return job.wake();
        job.stateEl.textContent = t(key, { seconds: left-- });
        job.timer = setTimeout(tick, 1000);
      })();
    });
  }
  async function run(job, token) {
    await job.prepared;
    if (job.token !== token || job.state === 'refused') return;
    job.samples = [];
    setState(job, 'uploading');
    for (;;) {
      try {
        await transfer(job, token);
        forget(job);
        progress(job, job.size, true);
        return setState(job, 'done');
      } catch (error) {
        if (job.token !== token || error === STOPPED) return;
        if (error.kind === 'gone') {
          if (await restartLost(job, token, error)) continue;
          return;
        }
        if (error.kind === 'refused') return endWith(job, 'refused', error.reason);
        if (error.kind !== 'retry' || job.attempt >= MAX_RETRIES) return endWith(job, 'failed', error.reason);
        const seconds = error.after || BACKOFF[Math.min(job.attempt, BACKOFF.length - 1)];
        job.attempt += 1;
        job.needHead = Boolean(job.url); // learn the server's offset before sending again
        await countdown(job, seconds, error.offline);
        if (job.token !== token) return;
        job.samples = [];
        setState(job, 'uploading', true);
      }
    }
  }
  // A 404 on an upload URL may mean only that upload is gone (expired, removed elsewhere): if the
  // capability still works, start the file over once; otherwise stop with the server's sentence.
  async function restartLost(job, token, error) {
    const probe = error.status === 404 && job.url && !job.restarted ? await send('GET', tusUrl) : null;
    if (job.token !== token) return false;
    if (probe && probe.status === 200) {
      forget(job);
      Object.assign(job, { url: null, checked: false, restarted: true, offset: 0 });
      progress(job, 0, true);
      return true;
    }
    stopAll(probe ? problem(probe).reason : error.reason);
    return false;
  }
  function start(job) {
    const token = job.token = {};
    current = job;
    run(job, token).finally(() => {
      if (job.token !== token) return; // paused (the queue waits for it) or cancelled
      if (current === job) current = null;
      pump();
    });
  }
  // One file at a time, in order; a paused current file holds the queue.
  function pump() {
    if (stopped || current) return;
    const next = jobs.find(job => job.state === 'waiting');
    if (next) return start(next);
    const accepted = jobs.filter(job => job.state !== 'refused');
    if (!accepted.length || !accepted.every(job => job.state === 'done')) return;
    if (!allDone) { allDone = true; showBanner(t('all_done'), 'notice'); }
    // Stay while a refusal is on screen; go to the list once every listed file is done.
    if (doneUrl && !doneTimer && accepted.length === jobs.length) {
      doneTimer = setTimeout(() => location.assign(doneUrl), 1500);
    }
  }
  function halt(job) {
    job.token = null;
    if (job.xhr && job.xhr.tusMethod !== 'POST') job.xhr.abort();
    if (job.wake) job.wake();
    job.needHead = Boolean(job.url);
  }
  function togglePause(job) {
    if (job.state !== 'paused') {
      halt(job);
      setState(job, 'paused');
      return progress(job, job.offset, true); // what the server has acknowledged, not what was in flight
    }
    if (job === current) return start(job); // HEAD, then PATCH from the server's offset
    setState(job, 'waiting');
    pump();
  }
  function retry(job) {
    Object.assign(job, { attempt: 0, conflicts: 0, needHead: Boolean(job.url) });
    setState(job, 'waiting');
    pump();
  }
  function cancel(job) {
    halt(job);
    jobs.splice(jobs.indexOf(job), 1);
    if (job.url) discard(job);
    job.li.remove();
    choose.focus();
    if (current === job) current = null;
    updateTotal();
    pump();
  }
  function stopAll(reason) {
    if (stopped) return;
    stopped = true;
    clearTimeout(doneTimer);
    for (const job of jobs) {
      halt(job);
      if (job.state === 'done' || job.state === 'refused') renderButtons(job);
      else setState(job, 'failed', true);
    }
    choose.disabled = true;
    showBanner(reason, 'error');
  }

  // ---------- adding files; continuing after a reload ----------
  function matchUnfinished(file) {
    const known = new Map(stored().map(([key, url]) => [url, key]));
    const mine = known.size ? safely(() => localStorage.getItem(keyFor(file))) : null;
    // Same name and size (an upload begun by another door has no length yet:
    // the name, and no more stored than the file holds); where this browser
    // began the upload, lastModified must match too.
    return unfinished.find(u => u.name === file.name &&
      (u.length === file.size || (u.length === null && u.offset <= file.size)) &&
      (mine ? u.url === mine : !known.has(u.url)));
  }
  async function prepare(job) {
    const prior = matchUnfinished(job.file);
    if (prior) {
      Object.assign(job, { url: prior.url, needHead: true, checked: true });
      remember(job);
      dropUnfinished(prior);
      progress(job, prior.offset, true);
      announce(t('resumed', { name: job.file.name, offset: human(prior.offset) }));
      return;
    }
    const turn = checks.then(() => (jobs.includes(job) ? checkName(job) : undefined));
    checks = turn.catch(() => {}); // names are checked one after another
    try {
      await turn;
    } catch (error) {
      if (error.kind === 'gone') stopAll(error.reason);
      else if (error.kind === 'refused' && jobs.includes(job)) endWith(job, 'refused', error.reason);
      // anything else: run() asks again, with retries
    }
  }
  function addFiles(fileList) {
    const files = Array.from(fileList || []);
    if (stopped || !files.length) return;
    clearTimeout(doneTimer);
    doneTimer = null;
    banner.hidden = true;
    allDone = false;
    for (const file of files) {
      const job = makeJob(file);
      jobs.push(job);
      job.prepared = ready.then(() => prepare(job));
    }
    pump();
  }
  function dropUnfinished(upload) {
    unfinished.splice(unfinished.indexOf(upload), 1);
    upload.li.remove();
    if (!unfinished.length) unfinishedList.parentNode.remove();
  }
  // GET /tus lists this message's unfinished uploads, to continue them after a reload.
  async function loadUnfinished() {
    const xhr = await send('GET', tusUrl, { headers: { Accept: 'application/json' } });
    if (GONE.includes(xhr.status)) return stopAll(problem(xhr).reason);
    const uploads = xhr.status === 200 ? safely(() => JSON.parse(xhr.responseText).uploads) : null;
    if (!Array.isArray(uploads)) return;
    unfinished = uploads.filter(u => u && typeof u.url === 'string' && typeof u.name === 'string').map(u => ({
      url: new URL(u.url, document.baseURI).href, name: u.name,
      length: typeof u.length === 'number' ? u.length : null, offset: Number(u.offset) || 0
    }));
    const onServer = new Set(unfinished.map(u => u.url));
    for (const [key, url] of stored()) if (!onServer.has(url)) safely(() => localStorage.removeItem(key));
    if (!unfinished.length) return;
    const heading = el('h2', { id: 'unfinished-title', textContent: t('unfinished_title') });
    unfinishedList = el('ul', { className: 'uploads' });
    const section = el('section', { className: 'unfinished' }, heading,
      el('p', { className: 'hint', textContent: t('unfinished_hint') }), unfinishedList);
    section.setAttribute('aria-labelledby', heading.id);
    for (const upload of unfinished) {
      const sizes = human(upload.offset) + (upload.length === null ? '' : ' / ' + human(upload.length));
      upload.li = el('li', {},
        el('p', {}, el('span', { className: 'name', textContent: upload.name }), ' ', el('span', { className: 'size', textContent: sizes })),
        bar(upload.name, upload.length ? (upload.offset / upload.length) * 100 : 0),
        el('p', { className: 'actions' }, button(t('remove'), upload.name, () => {
          send('DELETE', upload.url);
          dropUnfinished(upload);
          choose.focus();
        })));
      unfinishedList.append(upload.li);
    }
    form.before(section);
    // The server's own no-JavaScript list of these uploads gives way to this one.
    for (const node of document.querySelectorAll('[data-unfinished]')) node.hidden = true;
  }

  // ---------- start ----------
  function build() {
    const submit = form.querySelector('[type=submit]');
    if (submit) submit.hidden = true;
    input.classList.add('visually-hidden');
    input.tabIndex = -1; // reached through the choose button, not as an invisible tab stop
    choose = el('button', { type: 'button', textContent: t('choose') });
    const hint = input.getAttribute('aria-describedby');
    if (hint) choose.setAttribute('aria-describedby', hint);
    zone = el('div', { className: 'dropzone' }, el('p', {}, t('drop') + ' ', choose)); // "… or [choose files]"
    banner = el('p', { hidden: true });
    totalBar = el('progress', { id: 'upload-total', max: 100, value: 0 });
    totalText = el('span', { className: 'size' });
    totalBox = el('div', { className: 'total', hidden: true },
      el('label', { htmlFor: 'upload-total', textContent: t('total') }), totalBar, totalText);
    list = el('ul', { className: 'uploads' });
    live = el('p', { className: 'visually-hidden' });
    live.setAttribute('role', 'status');
    live.setAttribute('aria-live', 'polite');
    input.after(zone, banner, totalBox, list, live);
    choose.addEventListener('click', () => input.click());
    input.addEventListener('change', () => { addFiles(input.files); input.value = ''; });
    form.addEventListener('submit', event => { event.preventDefault(); addFiles(input.files); input.value = ''; });
    // Files dropped anywhere on the page are taken; the browser must not navigate to them.
    const carriesFiles = event => event.dataTransfer && Array.from(event.dataTransfer.types).includes('Files');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.addEventListener(type, event => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        zone.classList.toggle('over', type !== 'drop' && zone.contains(event.target));
        if (type === 'drop') addFiles(event.dataTransfer.files);
      });
    }
    document.addEventListener('dragleave', event => { if (!event.relatedTarget) zone.classList.remove('over'); });
    window.addEventListener('online', () => { if (current && current.wake) current.wake(); });
  }
  function init() {
    form = document.querySelector('form#upload[data-tus]');
    input = form && form.querySelector('input[type=file]');
    if (!input || !form.dataset.capability || !window.XMLHttpRequest || !window.FormData ||
        !window.Blob || !Blob.prototype.slice || !window.URL) return;
    tusUrl = new URL(form.dataset.tus, document.baseURI).href.replace(/\/+$/, '');
    capability = form.dataset.capability;
    doneUrl = form.dataset.doneUrl;
    const source = document.getElementById('upload-texts');
    const parsed = source && safely(() => JSON.parse(source.textContent));
    if (parsed && typeof parsed === 'object') texts = parsed;
    lang = document.documentElement.lang || 'en';
    if (!safely(() => Intl.NumberFormat.supportedLocalesOf(lang))) lang = 'en';
    decimal = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false });
    integer = new Intl.NumberFormat(lang, { useGrouping: false });
    pctFormat = new Intl.NumberFormat(lang, { style: 'percent' });
    build();
    ready = (async () => {
      prefix = await storagePrefix();
      await loadUnfinished();
    })().catch(() => {});
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();