// What the pages do in the browser beside the WASM client, loaded once the client has
// hydrated (`app::pages::common::Enhance`): nothing here is needed to see or use a page,
// so none of it weighs on the first load. Plain script, no build step.
//
// The WASM client's form enhancer (`app::pages::forms`) posts every form marked
// `data-enhance` and says how it went with an event on the form: `ll-sent` (its
// `detail` the server's answer, JSON) or `ll-failed`.
//
// Quick entry: a form marked `data-keep-typing` has its submit buttons disabled while
// its request runs; after `ll-sent` only the fields still holding what was sent are
// cleared, so what was typed meanwhile stays; after `ll-failed` nothing is.
//
// Undo: a delete form of the expenses or earnings list (`/api/expenses/delete`,
// `…/delete-many`, `/api/earnings/delete`) has its ids noted when it is submitted; after
// its `ll-sent` the bar offers "Undo" for 10 s, which posts the ids to
// `/api/expenses/restore` (or the id to `/api/earnings/restore`). "Select all" is added
// to each bulk-delete form.
//
// Sent: the team page's notice form says how many members were told.
(function () {
  var d = document;
  window.__liveledgerEnhanced = true;

  // --- Quick entry -------------------------------------------------------------------
  function buttons(form, disabled) {
    form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = disabled; });
  }
  function value(field) {
    return field.type === 'checkbox' ? field.checked : field.value;
  }
  d.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.hasAttribute('data-keep-typing')) return;
    form._sent = [].map.call(form.elements, function (f) { return [f, value(f)]; });
    buttons(form, true);
  }, true);
  d.addEventListener('ll-sent', function (e) {
    var form = e.target;
    if (!form.elements) return;
    buttons(form, false);
    (form._sent || []).forEach(function (pair) {
      var f = pair[0];
      if (f.type === 'hidden' || value(f) !== pair[1]) return;
      if (f.type === 'checkbox') f.checked = f.defaultChecked;
      else if (f.options) [].forEach.call(f.options, function (o) { o.selected = o.defaultSelected; });
      else f.value = f.defaultValue;
    });
    form._sent = null;
  }, true);
  d.addEventListener('ll-failed', function (e) {
    if (e.target.elements) buttons(e.target, false);
  }, true);

  // --- Sent ---------------------------------------------------------------------------
  d.addEventListener('ll-sent', function (e) {
    var out = e.target.querySelector && e.target.querySelector('[data-testid=send-result]');
    var n = Number(e.detail);
    if (out && e.detail !== '' && n >= 0) out.textContent = 'Sent to ' + n + (n === 1 ? ' member.' : ' members.');
  }, true);

  // --- Undo and select all -----------------------------------------------------------
  var bar = d.querySelector('[data-testid=undo-bar]');
  if (!bar) return;
  var said = bar.querySelector('span');
  var undo = bar.querySelector('button');
  var sent = null;
  var shown = null;
  var timer;
  function show(text, offer) {
    said.textContent = text;
    undo.hidden = !offer;
    bar.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(function () { bar.hidden = true; }, 10000);
  }
  d.addEventListener('submit', function (e) {
    var form = e.target;
    var kind = /\/api\/(expenses|earnings)\/delete(-many)?$/.exec(form.getAttribute('action') || '');
    if (!kind) return;
    var data = new FormData(form);
    var ids = [];
    data.forEach(function (v, k) { if (k === 'id' || k.indexOf('ids[') === 0) ids.push(v); });
    var mine = { kind: kind[1], ws: data.get('workspace_id'), ids: ids };
    sent = mine;
    // On the form itself: the live event that removes the row (and the form with it)
    // may come before the answer, and an event on a removed form reaches no ancestor.
    form.addEventListener('ll-sent', function () {
      if (sent !== mine) return;
      shown = mine;
      sent = null;
      var what = shown.kind === 'earnings' ? 'Earning' : 'Expense';
      show(shown.ids.length === 1 ? what + ' deleted.' : shown.ids.length + ' expenses deleted.', true);
    }, { once: true });
    form.addEventListener('ll-failed', function () { if (sent === mine) sent = null; }, { once: true });
  }, true);
  undo.addEventListener('click', function () {
    var p = shown;
    shown = null;
    bar.hidden = true;
    if (!p) return;
    var body = new URLSearchParams();
    body.append('workspace_id', p.ws);
    // An earning is deleted one at a time (`earnings/restore` takes its id).
    if (p.kind === 'earnings') body.append('id', p.ids[0]);
    else p.ids.forEach(function (id, i) { body.append('ids[' + i + ']', id); });
    fetch('/api/' + p.kind + '/restore', { method: 'POST', body: body, headers: { accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) return r.json().then(function (j) { show(j.message || 'Could not undo.', false); });
      })
      .catch(function () { show('Could not reach the server to undo.', false); });
  });

  d.querySelectorAll('.bulk-form button[type=submit]').forEach(function (del) {
    var b = d.createElement('button');
    b.type = 'button';
    b.className = 'small';
    b.setAttribute('data-select-all', '');
    b.textContent = 'Select all';
    del.parentNode.insertBefore(b, del);
  });
  d.addEventListener('click', function (e) {
    var b = e.target.closest('[data-select-all]');
    if (!b) return;
    var boxes = d.querySelectorAll('input.select[form="' + b.form.id + '"]');
    var all = [].every.call(boxes, function (x) { return x.checked; });
    boxes.forEach(function (x) { x.checked = !all; });
    b.textContent = all ? 'Select all' : 'Select none';
  });
})();
