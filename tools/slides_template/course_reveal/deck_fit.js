/* Fit every slide into the frame before reveal.js starts (tools/build_slides.py, course template).
   Runs once per page load, after the fonts, the figures and MathJax are ready, and works in slide
   pixels (opts.width x opts.height), so the result is the same in any window, in the speaker
   view's previews and in ?print-pdf:
   1. display formulas wider than their line get a smaller font (scaled to fit);
   2. tables wider than the slide get a smaller font, down to opts.minTableScale;
   3. a slide taller than the frame is zoomed out, down to opts.splitBelow; if that is not
      enough it is split into continuation slides (at cell boundaries first, then between the
      paragraphs, list items and fragments of a cell); each part is then zoomed to fit, down to
      opts.minScale; a part that still does not fit scrolls (and the deck audit reports it).
   The zoom applied is left in data-fit-scale on each slide. Returns {ready: Promise}.
   Also: the speaker view (key "s") shows the current slide's notes at once, instead of after its
   slide previews have loaded. */
function courseDeckFit(opts, start) {
  "use strict";
  var W = opts.width, H = opts.height;
  var slidesEl = document.querySelector(".reveal .slides");

  function leaves() {
    return Array.prototype.filter.call(
      document.querySelectorAll(".reveal .slides section"),
      function (s) { return !s.querySelector("section"); });
  }
  function show(s) {  /* laid out but invisible (a slide and its vertical stack) */
    [s, s.parentElement].forEach(function (e) {
      if (e && e.tagName === "SECTION") { e.style.display = "block"; e.style.visibility = "hidden"; }
    });
  }
  function hide(s) {
    [s, s.parentElement].forEach(function (e) {
      if (e && e.tagName === "SECTION") { e.style.display = ""; e.style.visibility = ""; }
    });
  }
  /* A slide's content goes into one box, div.deck-fit, which takes the zoom: its width stays
     100% of the slide (reveal.js gives slides a width in pixels in ?print-pdf, and a zoomed
     element with a pixel width would get narrower and reflow). */
  function inner(s) {
    var box = s.querySelector(":scope > .deck-fit");
    if (!box) {
      box = document.createElement("div");
      box.className = "deck-fit";
      Array.prototype.slice.call(s.childNodes).forEach(function (n) {
        if (!(n.nodeType === 1 && n.tagName === "ASIDE")) box.appendChild(n);
      });
      s.insertBefore(box, s.firstChild);
    }
    return box;
  }
  function heightAt(s, z) {
    inner(s).style.zoom = z === 1 ? "" : String(z);
    return s.getBoundingClientRect().height;
  }
  function fits(s, z) { return heightAt(s, z) <= H; }

  function fitMaths(s) {
    s.querySelectorAll('mjx-container[display="true"]').forEach(function (mc) {
      /* MathJax gives numbered display equations a min-width, so compare with the parent */
      var host = mc.parentElement, cs = getComputedStyle(host);
      var avail = Math.min(mc.getBoundingClientRect().width, host.getBoundingClientRect().width
        - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight));
      /* a formula in a list item can widen the item: the slide's text column is the limit */
      var edge = s.getBoundingClientRect().right - parseFloat(getComputedStyle(s).paddingRight);
      avail = Math.min(avail, edge - mc.getBoundingClientRect().left);
      var inner = mc.querySelector("mjx-math") || mc;
      var need = Math.max(inner.getBoundingClientRect().width, mc.scrollWidth,
        mc.getBoundingClientRect().width);
      if (avail > 0 && need > avail + 1) {
        var size = parseFloat(getComputedStyle(mc).fontSize);
        mc.style.fontSize = (size * avail / need * 0.98).toFixed(2) + "px";
        mc.setAttribute("data-fit-scale", (avail / need * 0.98).toFixed(3));
      }
    });
  }
  function fitTables(s) {
    s.querySelectorAll("table").forEach(function (t) {
      var host = t.parentElement, avail = host.getBoundingClientRect().width;
      var need = t.getBoundingClientRect().width;
      if (avail > 0 && need > avail + 1) {
        var ratio = Math.max(opts.minTableScale, avail / need * 0.98);
        var size = parseFloat(getComputedStyle(t).fontSize);
        t.style.fontSize = (size * ratio).toFixed(2) + "px";
      }
    });
  }

  /* Splitting: a "host" holds pieces that may go to different slides: a slide's cells, a
     fragment's cells, a markdown cell's paragraphs, a code cell's input and output, an output's
     parts, the items of a list, the rows of a table (its header is repeated). */
  function hostOf(el) {
    var c = el.classList;
    if (el.tagName === "SECTION") return inner(el);
    if (c.contains("deck-fit") || c.contains("fragment") || c.contains("jp-CodeCell")
        || c.contains("jp-OutputArea-child") || c.contains("jp-RenderedMarkdown")
        || c.contains("jp-RenderedHTML") || el.tagName === "UL" || el.tagName === "OL") return el;
    if (c.contains("jp-MarkdownCell")) return el.querySelector(".jp-RenderedMarkdown");
    if (c.contains("jp-Cell-outputWrapper")) return el.querySelector(".jp-OutputArea");
    if (el.tagName === "TABLE") return el.tBodies[0] || null;
    return null;
  }
  function pieces(host) {
    return Array.prototype.filter.call(host.children, function (c) {
      return !(c.tagName === "ASIDE" || c.classList.contains("deck-continued")
               || c.classList.contains("jp-OutputPrompt") || c.classList.contains("jp-Collapser"));
    });
  }
  function prepend(host, el) {
    var first = pieces(host)[0];
    if (first) host.insertBefore(el, first);
    else {
      var notes = host.querySelector(":scope > aside.notes");
      host.insertBefore(el, notes);
    }
  }
  function shellOf(el) {
    var shell = el.cloneNode(true);
    shell.removeAttribute("id");
    var host = hostOf(shell);
    while (host.firstChild) host.removeChild(host.firstChild);
    shell.courseSplitOf = el;
    return shell;
  }
  /* Move the last piece of `el` (recursively) to the front of `target`, a shell of `el`. */
  function moveLast(el, target) {
    var host = hostOf(el), into = hostOf(target);
    if (!host || !into) return false;
    var ps = pieces(host);
    if (ps.length > 1) { prepend(into, ps[ps.length - 1]); return true; }
    if (ps.length !== 1 || !hostOf(ps[0])) return false;
    var child = ps[0], first = pieces(into)[0], made = false;
    if (!(first && first.courseSplitOf === child)) {
      first = shellOf(child); prepend(into, first); made = true;
    }
    if (moveLast(child, first)) return true;
    if (made) into.removeChild(first);
    return false;
  }
  function split(s) {
    var t = document.createElement("section");
    Array.prototype.forEach.call(s.attributes, function (a) {
      if (a.name !== "id" && a.name !== "style") t.setAttribute(a.name, a.value);
    });
    var heading = s.querySelector(".deck-continued, h1, h2, h3");
    if (heading) {
      var cont = document.createElement("div");
      cont.className = "deck-continued";
      cont.textContent = heading.textContent.replace(/\u00b6/g, "").replace(/ \(continued\)$/, "")
        .trim() + " (continued)";
      inner(t).appendChild(cont);
    }
    s.parentNode.insertBefore(t, s.nextSibling);
    show(t);
    var moved = 0;
    while (!fits(s, opts.splitBelow) && moveLast(s, t)) moved += 1;
    if (!moved || pieces(hostOf(s)).length === 0) {  // nothing could move: undo
      while (pieces(hostOf(t)).length) hostOf(s).appendChild(pieces(hostOf(t))[0]);
      t.parentNode.removeChild(t);
      return null;
    }
    s.querySelectorAll(":scope > aside.notes").forEach(function (n) {
      var copy = n.cloneNode(true);
      copy.insertAdjacentHTML("afterbegin", "<p><em>(continued)</em></p>");
      t.appendChild(copy);
    });
    return t;
  }
  function fitZoom(s) {
    if (fits(s, 1)) return 1;
    var lo = opts.minScale, hi = 1;
    if (!fits(s, lo)) {  /* does not fit even at the smallest zoom: it scrolls */
      s.classList.add("deck-overflow");
      s.style.height = H + "px";
      s.setAttribute("data-fit-scale", String(lo));
      return lo;
    }
    for (var i = 0; i < 8; i++) {
      var mid = (lo + hi) / 2;
      if (fits(s, mid)) lo = mid; else hi = mid;
    }
    inner(s).style.zoom = String(lo);
    s.setAttribute("data-fit-scale", lo.toFixed(3));
    return lo;
  }

  function waitForImages() {
    var imgs = Array.prototype.slice.call(document.querySelectorAll(".reveal img"));
    return Promise.all(imgs.map(function (img) {
      if (img.complete) return null;
      return new Promise(function (ok) { img.onload = img.onerror = ok; });
    }));
  }
  function fitAll() {
    var old = {w: slidesEl.style.width, h: slidesEl.style.height};
    slidesEl.style.width = W + "px";
    slidesEl.style.height = H + "px";
    var queue = leaves();
    while (queue.length) {
      var s = queue.shift();
      show(s);
      fitMaths(s);
      fitTables(s);
      if (!fits(s, opts.splitBelow)) {
        var rest = split(s);
        if (rest) queue.unshift(rest);  /* fitted next (hidden after it) */
      }
      fitZoom(s);
      hide(s);
    }
    slidesEl.style.width = old.w;
    slidesEl.style.height = old.h;
  }

  /* Fill the speaker view's notes pane as soon as the notes plugin has written the window. */
  var openWindow = window.open;
  window.open = function () {
    var w = openWindow.apply(window, arguments);
    setTimeout(function () {
      try {
        var pane = w && w.document.querySelector(".speaker-controls-notes");
        var value = pane && pane.querySelector(".value");
        var notes = window.Reveal && Reveal.isReady() ? Reveal.getSlideNotes() : "";
        if (value && notes && !value.innerHTML.trim()) {
          value.innerHTML = notes;
          pane.classList.remove("hidden");
        }
      } catch (err) { /* another window, or no speaker view: nothing to fill */ }
    }, 0);
    return w;
  };

  var ready = Promise.resolve()
    .then(function () {
      leaves().forEach(show);  // lay everything out once, so that every font is requested
      return Promise.all([document.fonts ? document.fonts.ready : null, waitForImages()]);
    })
    .then(function () {
      leaves().forEach(hide);
      var mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
      return mj || null;
    })
    .then(function () {
      try { fitAll(); } catch (err) { console.error("deck fitting failed:", err); }
      return start();
    });
  return {ready: ready};
}
