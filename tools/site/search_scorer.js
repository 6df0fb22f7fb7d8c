// The course website's search (tools/build_site.py; Sphinx's html_search_scorer).
// Sphinx scores a page by the best of its words, so for "feature condition" the lesson whose
// title has "conditional" in it ties with the lesson titled "The two feature conditions". Here a
// result whose title holds EVERY word of the query (by prefix, so "condition" finds
// "conditions") is put first. The other weights are Sphinx's defaults.
var Scorer = {
  score: (result) => {
    const [docname, title, anchor, descr, score, filename, kind] = result;
    const query = new URLSearchParams(window.location.search).get("q") || "";
    const stems = query.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 2)
      .map((w) => w.slice(0, Math.max(4, w.length - 2)));
    const words = (title || "").toLowerCase().split(/[^\p{L}\p{N}]+/u);
    const all = stems.length > 0 && stems.every((s) => words.some((w) => w.startsWith(s)));
    return all ? score + 30 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};

// Read from disk (file://), the browser refuses to fetch other pages, so the summaries under the
// results would fail: show the titles only there.
if (window.location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}

// The summary under a result is cut from the page's text: leave out the page's own buttons (its
// header bar, the launch links) so that it starts with the lesson's words.
if (typeof Search !== "undefined" && Search.htmlToText) {
  const pageText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(".bd-header-article, .bd-sidebar-secondary, .onlyprint, .launch-bar, "
      + ".headerlink, script, style")
      .forEach((el) => el.remove());
    doc.querySelectorAll("span.math").forEach((el) => {  // \(x\) reads as x
      el.textContent = el.textContent.replace(/^\s*\\\(|\\\)\s*$/g, "");
    });
    return pageText(doc.documentElement.outerHTML, anchor);
  };
}
