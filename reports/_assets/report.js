/* theraeval report: table sorting, pickers, plots and the transcript browser.
 * Data come from JSON data islands and data files; they are only ever written with textContent. */
(function () {
  "use strict";

  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"] };
  var FIGS = null;

  function mark(name) {
    try { performance.mark(name); } catch (e) { /* old browser */ }
  }

  // This script sits right after the leaderboard table: its first row is in the DOM now.
  if (document.querySelector("#lb-table tbody tr")) { mark("theraeval:leaderboard-row"); }

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function node(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    if (cls) { n.className = cls; }
    return n;
  }

  function island(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  // ---------------------------------------------------------------------------------------------------
  // sortable tables: <th data-type="num|text"><button class="sort">, cells carry data-v

  function cellValue(row, index) {
    var cell = row.children[index];
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-v");
    return v === null ? cell.textContent : v;
  }

  function sortTable(table, th) {
    var heads = $all("thead th", table);
    var index = heads.indexOf(th);
    var numeric = th.getAttribute("data-type") === "num";
    var current = th.getAttribute("aria-sort");
    var dir = current === "descending" ? "ascending" : (current === "ascending" ? "descending" : (numeric ? "descending" : "ascending"));
    heads.forEach(function (h) { if (h.hasAttribute("aria-sort")) { h.setAttribute("aria-sort", "none"); } });
    th.setAttribute("aria-sort", dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (r1, r2) {
      var a = cellValue(r1, index), b = cellValue(r2, index);
      if (numeric) {
        var x = a === "" ? NaN : Number(a), y = b === "" ? NaN : Number(b);
        if (isNaN(x) && isNaN(y)) { return 0; }
        if (isNaN(x)) { return 1; }   // missing values last, whatever the direction
        if (isNaN(y)) { return -1; }
        return sign * (x - y);
      }
      return sign * String(a).localeCompare(String(b));
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
  }

  function initSortable() {
    $all("table.sortable").forEach(function (table) {
      $all("thead th[data-type]", table).forEach(function (th) {
        th.addEventListener("click", function () { sortTable(table, th); });
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // leaderboard criterion picker

  // The selected criterion lives in the URL (?criterion=<id>, or #criterion=<id> where a browser refuses
  // history.replaceState on file://), so a reload or a shared link shows the same leaderboard.
  function urlCriterion() {
    try {
      var q = new URLSearchParams(location.search).get("criterion");
      if (q) { return q; }
    } catch (e) { /* old browser */ }
    var m = /(?:^#|&)criterion=([^&]*)/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function saveCriterion(value) {
    try {
      var u = new URL(location.href);
      u.searchParams.set("criterion", value);
      history.replaceState(null, "", u.href);
    } catch (e) {
      try { location.hash = "criterion=" + encodeURIComponent(value); } catch (e2) { /* nowhere to keep it */ }
    }
  }

  function orderLeaderboard(gatedLast) {
    var body = $("#lb-table tbody");
    if (!body) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var g = gatedLast ? (r1.hasAttribute("data-gated") ? 1 : 0) - (r2.hasAttribute("data-gated") ? 1 : 0) : 0;
      return g || Number(r1.getAttribute("data-bt")) - Number(r2.getAttribute("data-bt"));
    });
    $all("#lb-table thead th[aria-sort]").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
  }

  function showCriterion(value) {
    var select = $("#lb-criterion");
    $all("#lb-table tbody tr").forEach(function (tr) {
      tr.hidden = tr.getAttribute("data-criterion") !== value;
    });
    var caption = $("#lb-caption");
    if (caption) { caption.textContent = select.options[select.selectedIndex].textContent; }
    // figure pickers keyed by criterion follow the leaderboard (before plotly draws them, or redrawn)
    $all("select.fig-picker").forEach(function (pick) {
      var has = Array.prototype.some.call(pick.options, function (o) { return o.value === value; });
      if (has && pick.value !== value) {
        pick.value = value;
        pick.dispatchEvent(new Event("change"));
      }
    });
  }

  function initLeaderboard() {
    var select = $("#lb-criterion");
    if (!select) { return; }
    var wanted = urlCriterion();
    if (wanted && Array.prototype.some.call(select.options, function (o) { return o.value === wanted; })) {
      select.value = wanted;
    }
    showCriterion(select.value);  // also when the browser restored the form's state on reload
    select.addEventListener("change", function () {
      showCriterion(select.value);
      saveCriterion(select.value);
    });
    var gatedLast = $("#lb-gated-last");
    if (gatedLast) {
      gatedLast.addEventListener("change", function () { orderLeaderboard(gatedLast.checked); });
      if (gatedLast.checked !== gatedLast.defaultChecked) { orderLeaderboard(gatedLast.checked); }
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // plots: plotly.js is loaded after the page is parsed, then every plot slot is drawn in turn

  function drawPlot(div) {
    if (!window.Plotly || !FIGS) { return; }
    var group = FIGS[div.getAttribute("data-group")] || {};
    var spec = group[div.getAttribute("data-key")];
    if (!spec) { return; }
    var loading = $(".loading", div);
    if (loading) { div.removeChild(loading); }
    window.Plotly.react(div, spec.data, spec.layout, CONFIG);
  }

  function initPlots() {
    FIGS = island("figures") || {};
    $all("select.fig-picker").forEach(function (select) {
      select.addEventListener("change", function () {
        $all('.plot[data-group="' + select.getAttribute("data-group") + '"]').forEach(function (div) {
          div.setAttribute("data-key", select.value);
          drawPlot(div);
        });
      });
    });
    var slots = $all(".plot");
    if (!slots.length) { return; }
    var script = document.createElement("script");
    script.src = "assets/plotly.min.js";
    script.onload = function () {
      var i = 0;
      (function next() {
        if (i >= slots.length) { mark("theraeval:plots-drawn"); return; }
        drawPlot(slots[i++]);
        if (i === 1) { mark("theraeval:first-plot"); }
        setTimeout(next, 0);
      })();
    };
    script.onerror = function () {
      slots.forEach(function (div) { div.textContent = "plotly.js could not be loaded (assets/plotly.min.js)"; });
    };
    document.body.appendChild(script);
  }

  // ---------------------------------------------------------------------------------------------------
  // lazily loaded data files: assets/data/<name>.js calls __theraeval_data(name, payload)

  var loaded = {}, waiting = {};

  window.__theraeval_data = function (name, payload) {
    loaded[name] = payload;
    if (waiting[name]) { waiting[name].forEach(function (w) { w.resolve(payload); }); delete waiting[name]; }
  };

  function loadData(name) {
    return new Promise(function (resolve, reject) {
      if (Object.prototype.hasOwnProperty.call(loaded, name)) { resolve(loaded[name]); return; }
      var first = !waiting[name];
      (waiting[name] = waiting[name] || []).push({ resolve: resolve, reject: reject });
      if (!first) { return; }
      var s = document.createElement("script");
      s.src = "assets/data/" + name + ".js";
      s.onerror = function () {
        (waiting[name] || []).forEach(function (w) { w.reject(new Error("could not load " + s.src)); });
        delete waiting[name];
      };
      document.body.appendChild(s);
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // transcript browser

  var TB = { index: null, matches: [], page: 0, started: false };

  function hasBit(mask, bit) { return Math.floor(mask / Math.pow(2, bit)) % 2 === 1; }

  function filterRows() {
    var ix = TB.index;
    var crit = $("#tb-criterion").value, cand = $("#tb-candidate").value, risk = $("#tb-risk").value;
    var flips = $("#tb-flips").checked, unscored = $("#tb-unscored").checked;
    var cutOnly = $("#tb-cut") ? $("#tb-cut").checked : false;
    var disagree = $("#tb-disagree") ? $("#tb-disagree").checked : false;
    var search = $("#tb-search").value.trim().toLowerCase();
    var c = crit === "" ? -1 : Number(crit), k = cand === "" ? -1 : Number(cand);
    var out = [];
    for (var r = 0; r < ix.rows; r++) {
      if (k >= 0 && ix.a[r] !== k && ix.b[r] !== k) { continue; }
      var s = ix.s[r];
      if (risk !== "" && ix.risk[s] !== risk) { continue; }
      if (flips && (c >= 0 ? !hasBit(ix.flip[r], c) : ix.flip[r] === 0)) { continue; }
      if (unscored && (c >= 0 ? !hasBit(ix.uns[r], c) : ix.uns[r] === 0)) { continue; }
      if (cutOnly && !(ix.cut && ix.cut[r])) { continue; }
      if (disagree && !(ix.dis && (c >= 0 ? hasBit(ix.dis[r], c) : ix.dis[r] !== 0))) { continue; }
      if (search && ix.scenarios[s].toLowerCase().indexOf(search) < 0) { continue; }
      out.push(r);
    }
    TB.matches = out;
    TB.page = 0;
  }

  // ---------------------------------------------------------------------------------------------------
  // full-text search: the rows that pass the index filters are checked against their scenario file
  // (dialogues, scenario text, every rationale of the row), a few files at a time; files stay cached.

  function rowText(r, chunk, q) {
    var ix = TB.index, persona = ix.personas[ix.p[r]];
    function has(t) { return t && String(t).toLowerCase().indexOf(q) >= 0; }
    if (has(chunk.text)) { return true; }
    var sides = [ix.a[r], ix.b[r]];
    for (var i = 0; i < 2; i++) {
      var turns = chunk.dialogues[sides[i] + "|" + persona] || chunk.dialogues[sides[i] + "|"] || [];
      for (var t = 0; t < turns.length; t++) { if (has(turns[t][1])) { return true; } }
    }
    var entries = chunk.rows[String(r)] || [];
    for (var e = 0; e < entries.length; e++) {
      for (var o = 3; o <= 4; o++) {
        var order = entries[e][o];
        if (order && (has(chunk.reasons[order[3]]) || has(order[2]))) { return true; }
      }
    }
    return false;
  }

  function searchText(done) {
    var q = TB.query, rows = TB.matches, token = {};
    TB.searchToken = token;
    var byFile = {}, names = [];
    rows.forEach(function (r) {
      var name = "s" + TB.index.s[r];
      if (!byFile[name]) { byFile[name] = []; names.push(name); }
      byFile[name].push(r);
    });
    var hits = {}, next = 0, finished = 0, failed = null, started = performance.now();
    function report() {
      setStatus("searching\u2026 " + finished + " of " + names.length + " scenarios");
    }
    function pump() {
      if (TB.searchToken !== token) { return; }
      if (finished === names.length) {
        TB.matches = rows.filter(function (r) { return hits[r]; });
        TB.searchMs = performance.now() - started;
        mark("theraeval:search-done");
        done(failed);
        return;
      }
      while (next < names.length && next - finished < 6) {
        (function (name) {
          loadData(name).then(function (chunk) {
            byFile[name].forEach(function (r) { if (rowText(r, chunk, q)) { hits[r] = true; } });
          }, function (err) { failed = err; }).then(function () {
            finished += 1;
            if (finished % 25 === 0) { report(); }
            pump();
          });
        })(names[next++]);
      }
    }
    report();
    pump();
  }

  function pageSize() { return Number($("#tb-size").value) || 10; }

  function setStatus(text) {
    $all(".tb-status").forEach(function (s) { s.textContent = text; });
  }

  // search hits are wrapped in <mark> elements built from text nodes: model text never becomes markup
  function marked(tag, text, cls) {
    var n = node(tag, null, cls);
    var s = String(text), q = TB.query;
    if (!q) { n.textContent = s; return n; }
    var lower = s.toLowerCase(), at = 0, hit;
    while ((hit = lower.indexOf(q, at)) >= 0) {
      if (hit > at) { n.appendChild(document.createTextNode(s.slice(at, hit))); }
      n.appendChild(node("mark", s.slice(hit, hit + q.length)));
      at = hit + q.length;
    }
    if (at < s.length) { n.appendChild(document.createTextNode(s.slice(at))); }
    return n;
  }

  function renderTurns(box, turns) {
    if (!turns) { box.appendChild(node("p", "(no transcript for this candidate)", "empty")); return; }
    turns.forEach(function (t) {
      var role = String(t[0]);
      var turn = node("div", null, "turn role-" + (role === "patient" ? "patient" : "therapist"));
      turn.appendChild(node("span", role, "role"));
      turn.appendChild(marked("div", t[1], "text"));
      box.appendChild(turn);
    });
  }

  function outcomeText(code, nameA, nameB) {
    if (code === "A") { return nameA; }
    if (code === "B") { return nameB; }
    return code;  // tie | unscored
  }

  function orderCell(entry, nameA, nameB, reasons) {
    var td = node("td", null, "order");
    if (!entry) { td.textContent = "not judged in this order"; return td; }
    var label = entry[0], verdict = entry[1], unscored = entry[2], reason = reasons[entry[3]];
    var head = node("div", null, "order-head");
    head.appendChild(node("span", "judge said \u201c" + label + "\u201d \u2192 ", "muted"));
    head.appendChild(node("strong", outcomeText(verdict, nameA, nameB)));
    td.appendChild(head);
    if (unscored) { td.appendChild(node("div", "unscored: " + unscored, "unscored")); }
    if (reason) { td.appendChild(marked("div", reason, "reason")); }
    return td;
  }

  function renderCard(r, chunk) {
    var ix = TB.index;
    var nameA = ix.candidates[ix.a[r]], nameB = ix.candidates[ix.b[r]];
    var persona = ix.personas[ix.p[r]];
    var card = node("article", null, "cmp");
    var h = node("header");
    h.appendChild(node("h3", ix.scenarios[ix.s[r]]));
    var risk = ix.risk[ix.s[r]];
    if (risk) { h.appendChild(node("span", "risk: " + risk, "badge risk-" + risk.replace(/[^a-z]/g, ""))); }
    h.appendChild(node("span", nameA + " vs " + nameB, "badge pair"));
    if (persona) { h.appendChild(node("span", "persona " + persona, "badge")); }
    if (ix.judges.length > 1) { h.appendChild(node("span", "judge " + ix.judges[ix.j[r]], "badge")); }
    var cut = ix.cut ? ix.cut[r] : 0;
    [[1, nameA], [2, nameB]].forEach(function (side) {
      if (cut & side[0]) {
        var b = node("span", "\u2702 " + side[1] + ": reply cut at the token limit", "badge cut");
        b.title = "stop_reason max_tokens / model_length in the stage-1 log: the reply was truncated";
        h.appendChild(b);
      }
    });
    card.appendChild(h);
    var info = ix.personaInfo[ix.p[r]];
    if (persona && info) { card.appendChild(node("p", info, "persona-info")); }
    var sides = [[ix.a[r], nameA, "A"], [ix.b[r], nameB, "B"]].map(function (side) {
      return side.concat([chunk.dialogues[side[0] + "|" + persona] || chunk.dialogues[side[0] + "|"]]);
    });
    // the scenario text is shown once, unless it is already the opening patient turn of the dialogues
    var opens = sides.every(function (side) { return side[3] && side[3].length && side[3][0][1] === chunk.text; });
    if (chunk.text && !opens) { card.appendChild(node("blockquote", chunk.text, "scenario-text")); }

    var dl = node("div", null, "dialogues");
    sides.forEach(function (side) {
      var box = node("div", null, "dialogue");
      var title = node("h4", side[2] + ": " + side[1]);
      var n = (chunk.cut || {})[side[0] + "|" + persona] || (chunk.cut || {})[side[0] + "|"];
      if (n) { title.appendChild(node("span", " \u2702 " + n + " repl" + (n > 1 ? "ies" : "y") + " cut at the token limit", "cut")); }
      box.appendChild(title);
      var turns = node("div", null, "turns");
      renderTurns(turns, side[3]);
      box.appendChild(turns);
      dl.appendChild(box);
    });
    card.appendChild(dl);

    var crit = $("#tb-criterion").value;
    var table = node("table", null, "verdicts");
    var thead = node("thead"), tr = node("tr");
    ["criterion", "verdict (both orders)", "flip", "order A\u2013B (" + nameA + " first)",
      "order B\u2013A (" + nameB + " first)"].forEach(function (t) { tr.appendChild(node("th", t)); });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = node("tbody");
    (chunk.rows[String(r)] || []).forEach(function (e) {
      if (crit !== "" && Number(crit) !== e[0]) { return; }
      var row = node("tr", null, e[2] ? "flip" : "");
      row.appendChild(node("th", ix.criteria[e[0]]));
      row.appendChild(node("td", outcomeText(e[1], nameA, nameB), "combined combined-" + e[1]));
      row.appendChild(node("td", e[2] ? "\u21c4 flip" : "", "flipcell"));
      row.appendChild(orderCell(e[3], nameA, nameB, chunk.reasons));
      row.appendChild(orderCell(e[4], nameA, nameB, chunk.reasons));
      tbody.appendChild(row);
    });
    table.appendChild(tbody);
    var wrap = node("div", null, "table-wrap");
    wrap.appendChild(table);
    card.appendChild(wrap);
    if (ix.cmp) { card.appendChild(judgesTable(r, chunk, crit, nameA, nameB)); }
    return card;
  }

  // several judges: every judge's verdict (both orders combined) per criterion, side by side
  function judgesTable(r, chunk, crit, nameA, nameB) {
    var ix = TB.index;
    if (!TB.siblings) {
      TB.siblings = {};
      for (var x = 0; x < ix.rows; x++) { (TB.siblings[ix.cmp[x]] = TB.siblings[ix.cmp[x]] || []).push(x); }
    }
    var rows = TB.siblings[ix.cmp[r]];
    var byJudge = rows.map(function (x) {
      var m = {};
      (chunk.rows[String(x)] || []).forEach(function (e) { m[e[0]] = e[1]; });
      return m;
    });
    var table = node("table", null, "verdicts judges");
    var thead = node("thead"), tr = node("tr");
    tr.appendChild(node("th", "criterion"));
    rows.forEach(function (x) { tr.appendChild(node("th", "judge " + ix.judges[ix.j[x]])); });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = node("tbody");
    ix.criteria.forEach(function (name, c) {
      if (crit !== "" && Number(crit) !== c) { return; }
      var split = hasBit(ix.dis[r], c);
      var row = node("tr", null, split ? "disagree" : "");
      row.appendChild(node("th", ix.criterionNames[c] + (split ? " \u2260" : "")));
      byJudge.forEach(function (m) {
        var code = m[c];
        row.appendChild(code === undefined ? node("td", "not judged", "muted")
          : node("td", outcomeText(code, nameA, nameB), "combined combined-" + code));
      });
      tbody.appendChild(row);
    });
    table.appendChild(tbody);
    var box = node("div", null, "table-wrap");
    box.appendChild(node("h4", "Every judge's verdict (both orders combined)"));
    box.appendChild(table);
    return box;
  }

  function renderPage() {
    var list = $("#tb-list");
    var size = pageSize(), total = TB.matches.length;
    var pages = Math.max(1, Math.ceil(total / size));
    TB.page = Math.min(Math.max(TB.page, 0), pages - 1);
    var rows = TB.matches.slice(TB.page * size, (TB.page + 1) * size);
    $all(".tb-prev").forEach(function (b) { b.disabled = TB.page === 0; });
    $all(".tb-next").forEach(function (b) { b.disabled = TB.page >= pages - 1; });
    var status = total === 0 ? "no comparison matches the filters" :
      "page " + (TB.page + 1) + " of " + pages + " \u00b7 " + total + " matching comparisons";
    if (TB.query) { status += " (text \u201c" + TB.query + "\u201d found in " + total + ")"; }
    setStatus(status);
    var names = {};
    rows.forEach(function (r) { names["s" + TB.index.s[r]] = true; });
    var token = {};
    TB.token = token;
    Promise.all(Object.keys(names).map(loadData)).then(function () {
      if (TB.token !== token) { return; }  // a newer page was asked for meanwhile
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(renderCard(r, loaded["s" + TB.index.s[r]])); });
      list.textContent = "";
      if (!rows.length) { list.appendChild(node("p", "No comparison matches the filters.", "empty")); }
      list.appendChild(frag);
      list.setAttribute("data-page", String(TB.page));
      mark("theraeval:transcripts-page");
    }, function (err) {
      list.textContent = "";
      list.appendChild(node("p", String(err && err.message || err), "error"));
    });
  }

  function refresh() {
    filterRows();
    var text = $("#tb-text");
    TB.query = text ? text.value.trim().toLowerCase() : "";
    TB.searchToken = null;
    if (TB.query.length < 2) { TB.query = ""; renderPage(); return; }
    searchText(function (err) {
      renderPage();
      if (err) { setStatus("some transcript files could not be loaded: " + (err.message || err)); }
    });
  }

  function startBrowser() {
    if (TB.started || !$("#tb-list")) { return; }
    TB.started = true;
    $("#tb-list").textContent = "loading transcripts\u2026";
    loadData("index").then(function (ix) {
      TB.index = ix;
      refresh();
    }, function (err) {
      $("#tb-list").textContent = String(err && err.message || err);
    });
  }

  function initBrowser() {
    var section = $("#transcripts"), list = $("#tb-list");
    if (!section || !list) { return; }
    function refilter() { if (TB.index) { refresh(); } else { startBrowser(); } }
    // links from the crisis-safety section: filter the browser to that scenario and candidate
    $all("a.tb-link").forEach(function (a) {
      a.addEventListener("click", function () {
        if (search) { search.value = a.getAttribute("data-scenario") || ""; }
        var pick = $("#tb-candidate"), want = a.getAttribute("data-candidate");
        if (pick) {
          for (var i = 0; i < pick.options.length; i++) {
            if (pick.options[i].textContent === want) { pick.value = pick.options[i].value; }
          }
        }
        refilter();
      });
    });
    ["#tb-criterion", "#tb-candidate", "#tb-risk", "#tb-flips", "#tb-unscored", "#tb-cut", "#tb-disagree", "#tb-size"].forEach(function (sel) {
      var el = $(sel);
      if (el) { el.addEventListener("change", refilter); }
    });
    var search = $("#tb-search"), text = $("#tb-text"), timer = null;
    [search, text].forEach(function (box) {
      if (box) { box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refilter, 250); }); }
    });
    $all(".tb-prev").forEach(function (b) {
      b.addEventListener("click", function () { if (TB.index) { TB.page -= 1; renderPage(); } });
    });
    $all(".tb-next").forEach(function (b) {
      b.addEventListener("click", function () { if (TB.index) { TB.page += 1; renderPage(); } });
    });
    if ("IntersectionObserver" in window) {
      var io = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) { io.disconnect(); startBrowser(); }
      }, { rootMargin: "800px 0px" });
      io.observe(section);
    } else {
      startBrowser();
    }
  }

  window.theraevalReport = {
    startTranscripts: startBrowser,
    // for benchmarks/report_size.py: run a text search now (no typing debounce)
    search: function (text) { var box = $("#tb-text"); if (box && TB.index) { box.value = text; refresh(); } }
  };

  document.addEventListener("DOMContentLoaded", function () {
    initSortable();
    initPlots();        // registers the figure pickers' listeners before the leaderboard sets them
    initLeaderboard();
    initBrowser();
    mark("theraeval:ready");
  });
})();
